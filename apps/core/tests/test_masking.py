"""Logs never carry personal data: phones, e-mails, PAN, GSTIN, bank accounts, tokens and OTPs are
masked, by value and by key, in structlog events and stdlib records alike (ARCHITECTURE section 6)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from apps.accounts.models import SmsMessage
from apps.core.logging import build_json_formatter, mask_pii
from apps.core.masking import mask_text, mask_value

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiNDIiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXBhcnQtMTIz"


# --- mask_text: values recognised wherever they appear -------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param("+91 98765 43210", "***3210", id="e164-with-spaces"),
        pytest.param("9876543210", "***3210", id="national-10-digits"),
        pytest.param("+919876543210", "***3210", id="e164"),
        pytest.param("call +91-98765-43210 today", "call ***3210 today", id="hyphenated-in-text"),
        pytest.param("Mob:-9876543210", "Mob:-***3210", id="after-colon-dash"),
        pytest.param("Mob-9876543210", "Mob-***3210", id="after-a-word-and-dash"),
        pytest.param("9876543210-ramesh", "***3210-ramesh", id="before-a-dash-and-word"),
        pytest.param(
            "user 98765432-1012-4345-8678-901234567890 mobile 9876543210",
            "user 98765432-1012-4345-8678-901234567890 mobile ***3210",
            id="next-to-a-uuid",
        ),
        pytest.param("call me at 9876543210.", "call me at ***3210.", id="before-a-full-stop"),
        pytest.param("ramesh.patel@mill.in", "r***@mill.in", id="email"),
        pytest.param("write to ramesh.patel@mill.in.", "write to r***@mill.in.", id="email-before-full-stop"),
        pytest.param("PAN ABCDE1234F on file", "PAN ***PAN*** on file", id="pan"),
        pytest.param("GSTIN 24ABCDE1234F1Z5", "GSTIN 24***5", id="gstin"),
        pytest.param("a/c 123456789012", "a/c ***9012", id="bank-account"),
        pytest.param("a/c 123456789012.", "a/c ***9012.", id="bank-account-before-full-stop"),
        pytest.param(f"Bearer {JWT}", "Bearer ***jwt***", id="jwt"),
        pytest.param("otp 123456", "otp ***", id="otp"),
        pytest.param("Your code is 123456.", "Your code is ***.", id="otp-before-full-stop"),
        pytest.param("123456 is your Cotton ERP sign-in code.", "*** is your Cotton ERP sign-in code.", id="otp-sms"),
    ],
)
def test_mask_text_hides_personal_data(text, masked):
    assert mask_text(text) == masked


def test_mask_text_keeps_only_the_last_four_digits_of_phones_and_accounts():
    masked = mask_text("mobile +91 98765 43210, account 123456789012")

    assert masked == "mobile ***3210, account ***9012"
    assert "98765" not in masked
    assert "12345678" not in masked


def test_a_gstin_loses_the_pan_inside_it():
    masked = mask_text("24ABCDE1234F1Z5")

    assert masked == "24***5"
    assert "ABCDE1234F" not in masked


def test_no_part_of_a_jwt_survives():
    header, payload, signature = JWT.split(".")

    masked = mask_text(f"token {JWT} refused")

    assert masked == "token ***jwt*** refused"
    for part in (header, payload, signature):
        assert part not in masked


@pytest.mark.parametrize(
    "text",
    [
        "order 42 for 100 bales",
        "price 60000.10 per candy",
        "rate 123456.50 per candy",
        "weight 1000.500 kg",
        "GET /api/v1/me",
        "ip 192.168.100.200",
        "IFSC SBIN0001234",
        "user 12345678-1234-4234-8234-123456789012 logged in",
        "user_id 98765432-1012-4345-8678-901234567890",
        "expires 2025-11-24 10:30:00+00:00",
        "arrival 24-11-2025 10:30",
        "lot ab-123",
    ],
)
def test_mask_text_leaves_text_without_personal_data_untouched(text):
    assert mask_text(text) == text


# --- mask_value: by key, and through containers ---------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["password", "new_password", "token", "refresh_token", "otp", "otp_code", "authorization", "api_key", "secret"],
)
def test_values_under_secret_keys_are_fully_redacted(key):
    assert mask_value("anything at all, even harmless", key=key) == "***"


def test_empty_and_missing_secrets_stay_as_they_are():
    assert mask_value(None, key="password") is None
    assert mask_value("", key="token") == ""


def test_nested_dicts_lists_and_tuples_are_masked_recursively():
    value = {
        "partner": {
            "contact": {"mobile": "+919876543210", "email": "ramesh.patel@mill.in"},
            "auth": {"password": "Cotton-Pass1", "otp": 123456},
            "accounts": ["123456789012", ("GSTIN 24ABCDE1234F1Z5",)],
        },
        "bales": 100,
        "note": "order 42 for 100 bales",
    }

    assert mask_value(value) == {
        "partner": {
            "contact": {"mobile": "***3210", "email": "r***@mill.in"},
            "auth": {"password": "***", "otp": "***"},
            "accounts": ["***9012", ("GSTIN 24***5",)],
        },
        "bales": 100,
        "note": "order 42 for 100 bales",
    }


def test_non_string_values_pass_through_unchanged():
    assert mask_value(100) == 100
    assert mask_value(None) is None
    assert mask_value(True) is True


# --- the structlog processor ------------------------------------------------------------------------


def test_mask_pii_masks_the_event_and_every_field_but_bookkeeping():
    event_dict = {
        "event": "otp 123456 sent to ramesh@mill.in",
        "mobile": "+919876543210",
        "token": "plain-looking",
        "lots": [{"pan": "ABCDE1234F"}],
        "request_id": "req-12345678901",
        "timestamp": "2025-11-24T10:30:00Z",
        "level": "info",
        "logger": "apps.accounts.sms",
    }

    assert mask_pii(None, "info", event_dict) == {
        "event": "otp *** sent to r***@mill.in",
        "mobile": "***3210",
        "token": "***",
        "lots": [{"pan": "***PAN***"}],
        "request_id": "req-12345678901",
        "timestamp": "2025-11-24T10:30:00Z",
        "level": "info",
        "logger": "apps.accounts.sms",
    }


def test_mask_pii_masks_the_rendered_exception_text():
    event_dict = {"event": "crash", "exception": "Traceback ...\nValueError: no user with mobile +919876543210"}

    assert mask_pii(None, "error", event_dict)["exception"] == "Traceback ...\nValueError: no user with mobile ***3210"


# --- end to end: what the configured logging writes -------------------------------------------------


RAW_PII = ["9876543210", "98765 43210", "ramesh.patel", "ramesh@mill.in", "123456", "ABCDE1234F", "Cotton-Pass1"]


def _configured_json_formatter() -> logging.Formatter:
    """The formatter settings.LOGGING put on the root logger's console handler."""
    formatters = [
        h.formatter
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    ]
    assert formatters, "settings.LOGGING must attach the JSON formatter to the root logger"
    return formatters[0]


def _parse(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_configured_json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_build_json_formatter_masks_a_stdlib_record():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_json_formatter())
    logger = logging.getLogger("cotton.tests.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("user %s", "ramesh@mill.in", extra={"mobile": "+919876543210"})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    (line,) = _parse(stream)
    assert line["event"] == "user r***@mill.in"
    assert line["mobile"] == "***3210"
    assert line["level"] == "warning"
    assert line["logger"] == "cotton.tests.masking"


def test_a_structlog_event_is_written_as_json_without_raw_pii(json_log):
    structlog.get_logger().info(
        "partner.contacted",
        mobile="+919876543210",
        email="ramesh.patel@mill.in",
        note="otp 123456",
        pan="ABCDE1234F",
        password="Cotton-Pass1",
    )

    (line,) = [entry for entry in _parse(json_log) if entry["event"] == "partner.contacted"]
    assert line["mobile"] == "***3210"
    assert line["email"] == "r***@mill.in"
    assert line["note"] == "otp ***"
    assert line["pan"] == "***PAN***"
    assert line["password"] == "***"
    assert line["level"] == "info"
    raw = json_log.getvalue()
    for pii in RAW_PII:
        assert pii not in raw


def test_a_stdlib_record_is_written_as_json_without_raw_pii(json_log):
    logging.getLogger("django.request").warning("user %s", "ramesh@mill.in")

    (line,) = [entry for entry in _parse(json_log) if entry["logger"] == "django.request"]
    assert line["event"] == "user r***@mill.in"
    assert line["level"] == "warning"
    assert "ramesh@mill.in" not in json_log.getvalue()


def test_a_logged_exception_does_not_leak_pii_from_its_message(json_log):
    try:
        raise ValueError("no partner with mobile +919876543210 or e-mail ramesh@mill.in")
    except ValueError:
        logging.getLogger("apps.partners").exception("lookup failed")

    (line,) = [entry for entry in _parse(json_log) if entry["event"] == "lookup failed"]
    assert "ValueError: no partner with mobile ***3210 or e-mail r***@mill.in" in line["exception"]
    raw = json_log.getvalue()
    assert "9876543210" not in raw
    assert "ramesh@mill.in" not in raw


def test_log_lines_of_an_api_request_carry_its_request_id(json_log, client):
    response = client.get("/api/v1/health/live", HTTP_X_REQUEST_ID="req-e2e-0001")

    assert response["X-Request-ID"] == "req-e2e-0001"
    lines = _parse(json_log)
    events = [entry["event"] for entry in lines]
    assert "request_started" not in events  # one line per request (issue 17)
    assert "request_finished" in events
    assert {entry.get("request_id") for entry in lines} == {"req-e2e-0001"}


def test_log_lines_carry_the_replacement_id_when_the_incoming_one_is_unsafe(json_log, client):
    response = client.get("/api/v1/health/live", HTTP_X_REQUEST_ID="has spaces in it")

    lines = _parse(json_log)
    assert lines
    assert {entry.get("request_id") for entry in lines} == {response["X-Request-ID"]}


def test_the_request_id_is_not_left_bound_after_the_request(json_log, client):
    client.get("/api/v1/health/live", HTTP_X_REQUEST_ID="req-e2e-0002")

    structlog.get_logger().info("after.request")

    (line,) = [entry for entry in _parse(json_log) if entry["event"] == "after.request"]
    assert "request_id" not in line


@pytest.mark.django_db
def test_an_otp_request_logs_neither_the_mobile_nor_the_code(json_log, api_client, organization):
    response = api_client.post(
        "/api/v1/auth/otp/request",
        {"mobile": "9876543210", "organization_code": organization.code},
        format="json",
        HTTP_X_REQUEST_ID="req-otp-0001",
    )

    assert response.status_code == 202
    sms = SmsMessage.objects.get(to="+919876543210")
    code = sms.body.split(" ", 1)[0]
    lines = _parse(json_log)
    (sent,) = [entry for entry in lines if entry["event"] == "sms.sent_to_dev_inbox"]
    assert sent["to"] == "***3210"
    assert sent["body"].startswith("*** is your Cotton ERP sign-in code.")
    assert sent["request_id"] == "req-otp-0001"
    raw = json_log.getvalue()
    assert code not in raw
    assert "9876543210" not in raw
