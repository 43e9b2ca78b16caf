"""OCR adapter. The offline default extracts nothing: the document waits for manual verification.

A real backend is named by the `PARTNERS_OCR_BACKEND` setting (dotted path of a callable taking the
document type and the file bytes, returning a dict of extracted fields).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

OcrBackend = Callable[[str, bytes], dict[str, Any]]


def null_backend(document_type: str, content: bytes) -> dict[str, Any]:
    return {}


def extract(document_type: str, content: bytes) -> dict[str, Any]:
    path = getattr(settings, "PARTNERS_OCR_BACKEND", "")
    backend: OcrBackend = import_string(path) if path else null_backend
    return backend(document_type, content)
