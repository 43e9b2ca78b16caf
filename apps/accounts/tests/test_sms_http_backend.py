"""SPEC section 2: the real SMS backend posts to an HTTP gateway with retries behind a circuit breaker.

A local stand-in gateway (http.server on 127.0.0.1, a free port) records what it receives and
answers with a chosen status, optionally after a delay. Stamina's test mode removes the backoff
waits but keeps the backend's own number of attempts (capped, not overridden).
"""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stamina
from rest_framework.test import APIClient

from apps.accounts.errors import SmsUnavailable
from apps.accounts.models import OtpCode, SmsMessage, User
from apps.accounts.sms import HttpSmsBackend, sms_breaker

MOBILE = "+919800000001"


class StandInGateway:
    def __init__(self):
        self.status = 200
        self.delay = 0.0
        self.requests = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                gateway.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(self.rfile.read(length))}
                )
                time.sleep(gateway.delay)
                try:
                    self.send_response(gateway.status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"id": "msg-1"}')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    with StandInGateway() as stand_in:
        yield stand_in


@pytest.fixture(autouse=True)
def _closed_breaker():
    sms_breaker.close()
    yield
    sms_breaker.close()


@pytest.fixture(autouse=True)
def _no_retry_waits():
    # attempts=10 with cap=True keeps the backend's own attempts (3) and only drops the waits.
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


def _backend(gateway, timeout=2.0):
    return HttpSmsBackend(url=gateway.url, token="gw-token", timeout=timeout)


# --- the request --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_posts_json_with_the_bearer_token(gateway):
    _backend(gateway).send(to=MOBILE, body="123456 is your code")

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/send"
    assert request["headers"]["Authorization"] == "Bearer gw-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {"to": MOBILE, "body": "123456 is your code", "sender": "COTTON"}
    assert SmsMessage.objects.count() == 0  # the dev inbox is the offline backend's, not this one's


# --- retries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_gateway_error_is_tried_three_times_then_reported_unavailable(gateway, status):
    gateway.status = status

    with pytest.raises(SmsUnavailable) as excinfo:
        _backend(gateway).send(to=MOBILE, body="hello")

    assert len(gateway.requests) == 3
    assert excinfo.value.code == "sms_unavailable"
    assert excinfo.value.status == 503


def test_a_refusal_by_the_gateway_is_not_retried(gateway):
    gateway.status = 400

    with pytest.raises(SmsUnavailable):
        _backend(gateway).send(to=MOBILE, body="hello")

    assert len(gateway.requests) == 1


def test_a_gateway_slower_than_the_timeout_is_reported_unavailable(gateway):
    gateway.delay = 0.5

    started = time.monotonic()
    with pytest.raises(SmsUnavailable):
        _backend(gateway, timeout=0.2).send(to=MOBILE, body="hello")

    assert len(gateway.requests) == 3
    assert time.monotonic() - started < 1.5


def test_an_unreachable_gateway_is_reported_unavailable(gateway):
    url = gateway.url
    gateway.server.shutdown()
    gateway.server.server_close()

    with pytest.raises(SmsUnavailable):
        HttpSmsBackend(url=url, token="gw-token", timeout=0.5).send(to=MOBILE, body="hello")


# --- circuit breaker ----------------------------------------------------------------------------


def test_after_five_failed_sends_the_breaker_opens_and_the_gateway_is_not_called(gateway):
    gateway.status = 500
    backend = _backend(gateway)
    for _ in range(5):
        with pytest.raises(SmsUnavailable):
            backend.send(to=MOBILE, body="hello")
    assert sms_breaker.current_state == "open"
    assert len(gateway.requests) == 15
    gateway.status = 200

    with pytest.raises(SmsUnavailable):
        backend.send(to=MOBILE, body="hello")

    assert len(gateway.requests) == 15


def test_four_failed_sends_leave_the_breaker_closed(gateway):
    gateway.status = 500
    backend = _backend(gateway)
    for _ in range(4):
        with pytest.raises(SmsUnavailable):
            backend.send(to=MOBILE, body="hello")
    gateway.status = 200

    backend.send(to=MOBILE, body="hello")

    assert sms_breaker.current_state == "closed"
    assert len(gateway.requests) == 13


def test_a_successful_send_resets_the_consecutive_failure_count(gateway):
    backend = _backend(gateway)
    gateway.status = 500
    for _ in range(4):
        with pytest.raises(SmsUnavailable):
            backend.send(to=MOBILE, body="hello")
    gateway.status = 200
    backend.send(to=MOBILE, body="hello")
    gateway.status = 500
    for _ in range(4):
        with pytest.raises(SmsUnavailable):
            backend.send(to=MOBILE, body="hello")

    assert sms_breaker.current_state == "closed"


# --- through the API ------------------------------------------------------------------------------


@pytest.fixture
def http_sms(settings, gateway):
    settings.SMS_BACKEND = "apps.accounts.sms.HttpSmsBackend"
    settings.SMS_HTTP_URL = gateway.url
    settings.SMS_HTTP_TOKEN = "gw-token"
    settings.SMS_HTTP_TIMEOUT_SECONDS = 1.0
    return gateway


@pytest.mark.django_db
def test_otp_request_reports_503_sms_unavailable_when_the_gateway_fails(organization, http_sms):
    http_sms.status = 503
    # A 5xx is reported through got_request_exception, which the test client would re-raise.
    client = APIClient(raise_request_exception=False)

    response = client.post(
        "/api/v1/auth/otp/request", {"mobile": "98000 00001", "organization_code": organization.code}, format="json"
    )

    body = response.json()
    assert response.status_code == 503
    assert body["code"] == "sms_unavailable"
    assert body["type"] == "server_error"
    assert body["request_id"] == response["X-Request-ID"]
    assert len(http_sms.requests) == 3
    assert {r["json"]["to"] for r in http_sms.requests} == {MOBILE}
    assert {r["headers"]["Authorization"] for r in http_sms.requests} == {"Bearer gw-token"}
    assert SmsMessage.objects.count() == 0
    assert User.objects.count() == 0
    # The undelivered code is gone: it cannot be used and does not count towards the limits.
    assert OtpCode.objects.count() == 0


@pytest.mark.django_db
def test_otp_sent_through_the_gateway_signs_in(api_client, organization, http_sms):
    request = api_client.post(
        "/api/v1/auth/otp/request", {"mobile": MOBILE, "organization_code": organization.code}, format="json"
    )
    code = re.search(r"\b(\d{6})\b", http_sms.requests[0]["json"]["body"]).group(1)

    verify = api_client.post("/api/v1/auth/otp/verify", {"mobile": MOBILE, "code": code}, format="json")

    assert request.status_code == 202
    assert len(http_sms.requests) == 1
    assert http_sms.requests[0]["json"]["sender"] == "COTTON"
    assert SmsMessage.objects.count() == 0
    assert verify.status_code == 200
    assert verify.json()["created"] is True
    assert OtpCode.objects.get().consumed_at is not None
