"""The partners app's outbound adapters against a real local HTTP server (http.server on
127.0.0.1, an ephemeral port): the OCR backend (SPEC section 6: extracted data, else manual
verification; an OCR outage never fails an upload) and the GST verification adapter, whose
registry turnover and filing compliance feed the onboarding risk score.

Stamina's test mode removes the backoff waits but keeps each adapter's own three attempts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stamina
from django.db import connection

from apps.events.models import OutboxEvent
from apps.partners import events, gst, ocr, services
from apps.partners.gst import GstVerification, HttpGstVerifier, gst_breaker, verify_gstin
from apps.partners.ocr import HttpOcrBackend, ocr_breaker
from apps.partners.tests import factories

GSTIN = factories.GSTIN


class StandIn:
    """A local HTTP service answering every POST with `status` and `body` after `delay` seconds,
    recording each request (path, headers, raw body)."""

    def __init__(self) -> None:
        self.status = 200
        self.body: Any = {}
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                stand_in.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
                )
                time.sleep(stand_in.delay)
                body = stand_in.body if isinstance(stand_in.body, bytes) else json.dumps(stand_in.body).encode()
                try:
                    self.send_response(stand_in.status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in stand_in.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/call"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service() -> Iterator[StandIn]:
    with StandIn() as stand_in:
        yield stand_in


@pytest.fixture(autouse=True)
def _closed_breakers() -> Iterator[None]:
    ocr_breaker.close()
    gst_breaker.close()
    yield
    ocr_breaker.close()
    gst_breaker.close()


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


# --- OCR ----------------------------------------------------------------------------------------


def _ocr(service: StandIn, timeout: float = 2.0) -> HttpOcrBackend:
    return HttpOcrBackend(url=service.url, token="ocr-token", timeout=timeout)


def test_ocr_posts_the_file_as_multipart_with_the_bearer_token_and_returns_the_fields(service: StandIn) -> None:
    service.body = {"fields": {"pan": "AAPFU0939F", "name": "SHREE GINNING PVT LTD", "dob": None, "blank": ""}}

    fields = _ocr(service).extract("PAN_CARD", factories.TINY_PDF)

    assert fields == {"pan": "AAPFU0939F", "name": "SHREE GINNING PVT LTD"}
    assert len(service.requests) == 1
    request = service.requests[0]
    assert request["path"] == "/v1/call"
    assert request["headers"]["Authorization"] == "Bearer ocr-token"
    assert request["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    body = request["body"]
    assert b'Content-Disposition: form-data; name="document_type"\r\n\r\nPAN_CARD\r\n' in body
    assert b'name="file"; filename="pan_card.pdf"\r\nContent-Type: application/pdf\r\n\r\n' + factories.TINY_PDF in body


@pytest.mark.parametrize("status", [500, 503, 429])
def test_ocr_failing_three_times_returns_nothing(service: StandIn, status: int) -> None:
    service.status = status

    assert _ocr(service).extract("PAN_CARD", factories.TINY_PDF) == {}
    assert len(service.requests) == 3


def test_ocr_slower_than_the_timeout_returns_nothing_after_three_tries(service: StandIn) -> None:
    service.delay = 0.5
    service.body = {"fields": {"pan": "AAPFU0939F"}}

    started = time.monotonic()
    fields = _ocr(service, timeout=0.2).extract("PAN_CARD", factories.TINY_PDF)

    assert fields == {}
    assert len(service.requests) == 3
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (400, {"error": "unreadable scan"}, {}),
        (200, b"<html>not json</html>", {}),
        (200, {"text": "no fields object"}, {}),
        (302, {}, {"Location": "http://127.0.0.1:1/elsewhere"}),  # redirects are not followed
    ],
)
def test_ocr_refusals_and_unreadable_answers_return_nothing_without_retrying(
    service: StandIn, status: int, body: Any, headers: dict[str, str]
) -> None:
    service.status, service.body, service.headers = status, body, headers

    assert _ocr(service).extract("GST_CERTIFICATE", factories.TINY_PNG) == {}
    assert len(service.requests) == 1
    assert ocr_breaker.fail_counter == 0  # not the service's failure


def test_ocr_unreachable_returns_nothing(service: StandIn) -> None:
    url = service.url
    service.server.shutdown()
    service.server.server_close()

    assert HttpOcrBackend(url=url, token="t", timeout=0.5).extract("PAN_CARD", factories.TINY_PDF) == {}


def test_after_five_failed_extractions_the_ocr_breaker_opens_and_the_service_is_not_called(service: StandIn) -> None:
    service.status = 500
    backend = _ocr(service)
    for _ in range(5):
        assert backend.extract("PAN_CARD", factories.TINY_PDF) == {}
    assert ocr_breaker.current_state == "open"
    service.status, service.body = 200, {"fields": {"pan": "AAPFU0939F"}}

    assert backend.extract("PAN_CARD", factories.TINY_PDF) == {}
    assert len(service.requests) == 15


def test_the_ocr_backend_is_chosen_by_settings(settings: Any) -> None:
    settings.PARTNERS_OCR_BACKEND = ""
    settings.PARTNERS_OCR_HTTP_URL = ""
    assert ocr.get_backend() is ocr.null_backend
    settings.PARTNERS_OCR_HTTP_URL = "http://127.0.0.1:9/ocr"
    assert ocr.get_backend() is ocr.http_backend
    settings.PARTNERS_OCR_BACKEND = "apps.partners.ocr.null_backend"  # an explicit backend wins
    assert ocr.get_backend() is ocr.null_backend


@pytest.fixture
def http_ocr(settings: Any, service: StandIn) -> StandIn:
    settings.PARTNERS_OCR_BACKEND = ""
    settings.PARTNERS_OCR_HTTP_URL = service.url
    settings.PARTNERS_OCR_HTTP_TOKEN = "ocr-token"
    settings.PARTNERS_OCR_HTTP_TIMEOUT_SECONDS = 1.0
    return service


@pytest.mark.django_db
def test_an_upload_stores_what_the_ocr_service_extracted(applicant: Any, http_ocr: StandIn) -> None:
    http_ocr.body = {"fields": {"pan": "AAPFU0939F"}}
    application = factories.application(applicant)

    document = services.document_upload(
        applicant=applicant, application_id=application.pk, document_type="PAN_CARD", file=factories.pdf_upload()
    )

    document.refresh_from_db()
    assert (document.extracted_data, document.needs_manual_verification) == ({"pan": "AAPFU0939F"}, False)
    assert document.file.read() == factories.TINY_PDF


@pytest.mark.django_db
def test_an_ocr_outage_never_fails_an_upload_it_falls_back_to_manual_verification(
    applicant: Any, http_ocr: StandIn
) -> None:
    http_ocr.status = 500
    application = factories.application(applicant)

    document = services.document_upload(
        applicant=applicant, application_id=application.pk, document_type="PAN_CARD", file=factories.pdf_upload()
    )

    document.refresh_from_db()
    assert (document.status, document.extracted_data, document.needs_manual_verification) == ("PENDING", {}, True)
    assert len(http_ocr.requests) == 3
    assert OutboxEvent.objects.filter(type=events.DOCUMENT_UPLOADED).count() == 1


# --- GST verification: offline ------------------------------------------------------------------


def test_offline_verification_checks_pattern_and_check_digit_only(settings: Any) -> None:
    settings.GST_VERIFY_HTTP_URL = ""
    wrong_check = GSTIN[:14] + ("A" if GSTIN[14] != "A" else "B")

    assert verify_gstin(f" {GSTIN.lower()} ") == GstVerification(gstin=GSTIN, valid=True, source="offline")
    assert verify_gstin(wrong_check) == GstVerification(
        gstin=wrong_check, valid=False, source="offline", reason="invalid_gstin_check_digit"
    )
    assert verify_gstin("27ABC") == GstVerification(
        gstin="27ABC", valid=False, source="offline", reason="invalid_gstin"
    )


# --- GST verification: the registry -------------------------------------------------------------


def _gst(service: StandIn, timeout: float = 2.0) -> HttpGstVerifier:
    return HttpGstVerifier(url=service.url, token="gst-token", timeout=timeout)


def test_the_registry_answer_is_read_with_decimal_turnover(service: StandIn) -> None:
    service.body = {
        "valid": True,
        "legal_name": "SHREE GINNING PRIVATE LIMITED",
        "status": "Active",
        "annual_turnover": "23500000.50",
        "filing_compliance": "good",
    }

    result = _gst(service).verify(GSTIN)

    assert result == GstVerification(
        gstin=GSTIN,
        valid=True,
        source="registry",
        legal_name="SHREE GINNING PRIVATE LIMITED",
        status="Active",
        annual_turnover=Decimal("23500000.50"),
        filing_compliance="GOOD",
    )
    request = service.requests[0]
    assert request["headers"]["Authorization"] == "Bearer gst-token"
    assert json.loads(request["body"]) == {"gstin": GSTIN}


def test_unreadable_registry_values_are_dropped(service: StandIn) -> None:
    service.body = {"valid": True, "annual_turnover": "lots", "filing_compliance": "EXCELLENT", "legal_name": 7}

    result = _gst(service).verify(GSTIN)

    assert (result.source, result.annual_turnover, result.filing_compliance, result.legal_name) == (
        "registry",
        None,
        None,
        None,
    )


def test_a_malformed_gstin_is_never_sent_to_the_registry(service: StandIn) -> None:
    result = _gst(service).verify("27AAPFU0939F1Z")

    assert (result.valid, result.source, result.reason) == (False, "offline", "invalid_gstin")
    assert service.requests == []


@pytest.mark.parametrize(("status", "body"), [(200, {"valid": False}), (404, {"error": "not found"})])
def test_a_gstin_unknown_to_the_registry_is_invalid(service: StandIn, status: int, body: Any) -> None:
    service.status, service.body = status, body

    result = _gst(service).verify(GSTIN)

    assert result == GstVerification(gstin=GSTIN, valid=False, source="registry", reason="not_registered")


def test_a_failing_registry_is_tried_three_times_then_reported_unavailable(service: StandIn) -> None:
    service.status = 500

    result = _gst(service).verify(GSTIN)

    assert result == GstVerification(gstin=GSTIN, valid=True, source="unavailable")
    assert len(service.requests) == 3


def test_a_slow_registry_is_reported_unavailable(service: StandIn) -> None:
    service.delay = 0.5

    started = time.monotonic()
    result = _gst(service, timeout=0.2).verify(GSTIN)

    assert result.source == "unavailable"
    assert len(service.requests) == 3
    assert time.monotonic() - started < 1.5


def test_an_unreadable_registry_answer_is_reported_unavailable_without_retrying(service: StandIn) -> None:
    service.body = {"gstin": GSTIN}  # no boolean `valid`

    assert _gst(service).verify(GSTIN).source == "unavailable"
    assert len(service.requests) == 1
    assert gst_breaker.fail_counter == 0


def test_after_five_failed_verifications_the_gst_breaker_opens(service: StandIn) -> None:
    service.status = 503
    verifier = _gst(service)
    for _ in range(5):
        assert verifier.verify(GSTIN).source == "unavailable"
    service.status, service.body = 200, {"valid": True}

    assert verifier.verify(GSTIN).source == "unavailable"
    assert gst_breaker.current_state == "open"
    assert len(service.requests) == 15


# --- the registry feeds the onboarding risk score -----------------------------------------------


@pytest.fixture
def registry(settings: Any, service: StandIn) -> StandIn:
    settings.GST_VERIFY_HTTP_URL = service.url
    settings.GST_VERIFY_HTTP_TOKEN = "gst-token"
    settings.GST_VERIFY_HTTP_TIMEOUT_SECONDS = 1.0
    return service


def _submit(applicant: Any) -> Any:
    application = factories.application(applicant)  # declares 60 lakh turnover and GOOD compliance
    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(application, doc_type)
    return services.application_submit(applicant=applicant, application_id=application.pk)


def _submitted_payload(application: Any) -> dict[str, Any]:
    return dict(OutboxEvent.objects.get(type=events.APPLICATION_SUBMITTED, aggregate_id=str(application.pk)).payload)


@pytest.mark.django_db
def test_without_a_registry_the_declared_turnover_and_compliance_score(settings: Any, applicant: Any) -> None:
    settings.GST_VERIFY_HTTP_URL = ""

    application = _submit(applicant)

    # 50 + 10 (36 months) + 15 (private limited) + 10 (60 lakh) + 10 (GOOD)
    assert (application.risk_score, application.risk_category, application.route) == (95, "LOW", "DESK_MANAGER")
    assert _submitted_payload(application)["gst_source"] == "declared"


@pytest.mark.django_db
def test_the_registrys_turnover_and_compliance_replace_the_declared_ones(applicant: Any, registry: StandIn) -> None:
    registry.body = {"valid": True, "annual_turnover": 20000000, "filing_compliance": "POOR", "status": "Active"}

    application = _submit(applicant)

    # 50 + 10 (36 months) + 15 (private limited) + 15 (2 crore verified) - 25 (POOR verified)
    assert (application.risk_score, application.risk_category, application.route) == (65, "MEDIUM", "MANAGER")
    assert _submitted_payload(application)["gst_source"] == "registry"
    assert json.loads(registry.requests[0]["body"]) == {"gstin": GSTIN}
    application.refresh_from_db()
    assert (application.gst_turnover, application.filing_compliance) == (Decimal("6000000.00"), "GOOD")


@pytest.mark.django_db
def test_a_registry_without_turnover_keeps_the_declared_turnover(applicant: Any, registry: StandIn) -> None:
    registry.body = {"valid": True, "filing_compliance": "AVERAGE"}

    application = _submit(applicant)

    assert application.risk_score == 85  # 95 - 10: the declared GOOD becomes the registry's AVERAGE
    assert _submitted_payload(application)["gst_source"] == "registry"


@pytest.mark.django_db
def test_an_unavailable_registry_falls_back_to_the_declared_values(applicant: Any, registry: StandIn) -> None:
    registry.status = 502

    application = _submit(applicant)

    assert (application.state, application.risk_score) == ("SUBMITTED", 95)
    assert _submitted_payload(application)["gst_source"] == "declared"
    assert len(registry.requests) == 3


@pytest.mark.django_db(transaction=True)
def test_the_registry_is_asked_outside_the_submit_transaction(
    applicant: Any, registry: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.body = {"valid": True, "annual_turnover": "20000000", "filing_compliance": "GOOD"}
    in_transaction: list[bool] = []
    real_verify = gst.verify_gstin

    def spy(gstin: str) -> GstVerification:
        in_transaction.append(connection.in_atomic_block)
        return real_verify(gstin)

    monkeypatch.setattr(gst, "verify_gstin", spy)

    application = _submit(applicant)

    assert in_transaction == [False]
    assert application.risk_score == 100  # 50 + 10 + 15 + 15 + 10
