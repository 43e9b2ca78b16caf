"""Password rule of SPEC section 2: upper, lower and a digit (length is Django's validator)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError


class MixedCharacterClassesValidator:
    def validate(self, password: str, user: Any = None) -> None:
        missing = [
            label
            for label, pattern in (
                ("an upper-case letter", r"[A-Z]"),
                ("a lower-case letter", r"[a-z]"),
                ("a digit", r"\d"),
            )
            if not re.search(pattern, password)
        ]
        if missing:
            raise ValidationError(
                "The password must contain " + ", ".join(missing) + ".", code="password_missing_character_classes"
            )

    def get_help_text(self) -> str:
        return "Your password must contain an upper-case letter, a lower-case letter and a digit."
