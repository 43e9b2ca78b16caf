"""Idempotency-Key (ARCHITECTURE section 11): a repeated unsafe request replays the first answer
and changes nothing; the same key for another request is 422; a key still running is 409;
5xx answers are not stored; keys are per user; expired keys are pruned."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from apps.accounts.models import User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from apps.accounts.tokens import issue_tokens
from apps.core.idempotency import REPLAYED_HEADER, idempotency_prune, request_fingerprint
from apps.core.models import IdempotencyRecord, IdempotencyState
from apps.core.tasks import prune_idempotency_keys
from apps.core.tests.urls_idempotency import CALLS
from apps.organizations.models import Organization

pytestmark = pytest.mark.urls("apps.core.tests.urls_idempotency")

ORGANIZATIONS = "/api/v1/test/organizations"
ERROR_KEYS = {"type", "code", "detail", "errors", "request_id"}
KEY = "7f1c2a9e-5b3d-4e61-9a0f-2d8c4b6e1a37"


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()
    yield
    CALLS.clear()


@pytest.fixture
def user(db):
    return UserFactory()


def _client(user: User, *, raise_request_exception: bool = True) -> APIClient:
    client = APIClient(raise_request_exception=raise_request_exception)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
    return client


def _post(client: APIClient, path: str, body: dict[str, Any], *, key: str | None = KEY, **extra: Any) -> Any:
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(path, body, format="json", **extra)


def _assert_error(response: Any, *, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["type"] == "client_error"
    assert body["code"] == code
    assert body["errors"] == [{"code": code, "detail": body["detail"], "attr": None}]
    assert body["request_id"] == response["X-Request-ID"]
    return body


# --- replay ----------------------------------------------------------------------------------------


def test_the_same_request_with_the_same_key_replays_the_first_answer_and_creates_nothing(user, authenticate):
    client = authenticate(user)

    first = _post(client, ORGANIZATIONS, {"code": "IDEM-1", "name": "Idempotent House"})
    second = _post(client, ORGANIZATIONS, {"code": "IDEM-1", "name": "Idempotent House"})

    assert first.status_code == 201
    assert REPLAYED_HEADER not in first
    assert second.status_code == 201
    assert second[REPLAYED_HEADER] == "true"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second["Location"] == first["Location"] == f"/api/v1/test/organizations/{first.json()['id']}"
    assert Organization.objects.filter(code="IDEM-1").count() == 1
    assert CALLS["organization_create"] == 1
    record = IdempotencyRecord.objects.get(user_id=user.pk, key=KEY)
    assert (record.state, record.status_code) == (IdempotencyState.COMPLETED, 201)
    assert record.headers == {"Content-Type": "application/json", "Location": first["Location"]}


def test_a_replay_carries_its_own_request_id(user, authenticate):
    client = authenticate(user)

    _post(
        client, ORGANIZATIONS, {"code": "IDEM-RID", "name": "Request Id House"}, HTTP_X_REQUEST_ID="first-request-0001"
    )
    replay = _post(
        client, ORGANIZATIONS, {"code": "IDEM-RID", "name": "Request Id House"}, HTTP_X_REQUEST_ID="retry-request-0002"
    )

    assert replay[REPLAYED_HEADER] == "true"
    assert replay["X-Request-ID"] == "retry-request-0002"


def test_a_client_error_is_stored_and_replayed_like_any_answer(user, authenticate):
    client = authenticate(user)

    first = _post(client, ORGANIZATIONS, {"code": "IDEM-400"})
    second = _post(client, ORGANIZATIONS, {"code": "IDEM-400"})

    assert first.status_code == second.status_code == 400
    assert first.json()["code"] == "validation_failed"
    assert second[REPLAYED_HEADER] == "true"
    assert second.content == first.content
    assert CALLS["organization_create"] == 1


def test_the_quoted_form_of_a_key_is_the_same_key(user, authenticate):
    client = authenticate(user)

    first = _post(client, ORGANIZATIONS, {"code": "IDEM-Q", "name": "Quoted House"}, key=f'"{KEY}"')
    second = _post(client, ORGANIZATIONS, {"code": "IDEM-Q", "name": "Quoted House"}, key=KEY)

    assert first.status_code == second.status_code == 201
    assert second[REPLAYED_HEADER] == "true"
    assert Organization.objects.filter(code="IDEM-Q").count() == 1


def test_a_session_user_of_the_admin_is_scoped_like_a_bearer_user(user, client):
    client.force_login(user)
    body = {"code": "IDEM-S", "name": "Session House"}

    first = client.post(ORGANIZATIONS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY)
    second = client.post(ORGANIZATIONS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == second.status_code == 201
    assert second[REPLAYED_HEADER] == "true"
    assert Organization.objects.filter(code="IDEM-S").count() == 1
    assert IdempotencyRecord.objects.get(key=KEY).user_id == user.pk


def test_a_retried_logout_on_the_real_api_replays_instead_of_failing(user, authenticate):
    client = authenticate(user)
    refresh = issue_tokens(user).refresh

    first = _post(client, "/api/v1/auth/logout", {"refresh": refresh})
    second = _post(client, "/api/v1/auth/logout", {"refresh": refresh})

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"revoked": 1}
    assert second[REPLAYED_HEADER] == "true"
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1


# --- the same key for another request --------------------------------------------------------------


def test_the_same_key_with_another_body_is_422_and_creates_nothing(user, authenticate):
    client = authenticate(user)
    _post(client, ORGANIZATIONS, {"code": "IDEM-2", "name": "First Body"})

    response = _post(client, ORGANIZATIONS, {"code": "IDEM-3", "name": "Second Body"})

    _assert_error(response, status=422, code="idempotency_key_reused")
    assert REPLAYED_HEADER not in response
    assert not Organization.objects.filter(code="IDEM-3").exists()
    assert CALLS["organization_create"] == 1


def test_the_same_key_on_another_path_is_422(user, authenticate):
    client = authenticate(user)
    _post(client, ORGANIZATIONS, {"code": "IDEM-4", "name": "Path House"})

    response = _post(client, "/api/v1/test/key-required", {"code": "IDEM-4", "name": "Path House"})

    _assert_error(response, status=422, code="idempotency_key_reused")
    assert CALLS["key_required"] == 0


# --- concurrency and in-progress keys ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_requests_with_one_key_execute_once(run_concurrently):
    user = UserFactory()
    access = issue_tokens(user).access

    def create():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        response = _post(client, ORGANIZATIONS, {"code": "IDEM-RACE", "name": "Race House"})
        return response.status_code, response.get(REPLAYED_HEADER), response.json()

    results = run_concurrently(create, times=10)

    assert [r.error for r in results] == [None] * 10
    answers = [r.value for r in results]
    executed = [a for a in answers if a[0] == 201 and a[1] is None]
    replayed = [a for a in answers if a[0] == 201 and a[1] == "true"]
    busy = [a for a in answers if a[0] == 409]
    assert len(executed) == 1
    assert len(executed) + len(replayed) + len(busy) == 10
    assert {a[2]["id"] for a in replayed} <= {executed[0][2]["id"]}
    assert {a[2]["code"] for a in busy} <= {"idempotency_key_in_progress"}
    assert Organization.objects.filter(code="IDEM-RACE").count() == 1
    assert CALLS["organization_create"] == 1


def test_a_key_whose_first_request_still_runs_answers_409(user, authenticate):
    body = json.dumps({"code": "IDEM-5", "name": "Busy House"})
    IdempotencyRecord.objects.create(
        user_id=user.pk,
        key=KEY,
        fingerprint=request_fingerprint(method="POST", path=ORGANIZATIONS, query="", body=body.encode()),
        expires_at=timezone.now() + timedelta(hours=24),
    )

    response = authenticate(user).post(ORGANIZATIONS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY)

    _assert_error(response, status=409, code="idempotency_key_in_progress")
    assert response["Retry-After"] == "1"
    assert CALLS["organization_create"] == 0


def test_a_claim_abandoned_longer_than_the_lock_timeout_is_taken_over(user, authenticate, settings):
    settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = 60
    body = json.dumps({"code": "IDEM-6", "name": "Abandoned House"})
    record = IdempotencyRecord.objects.create(
        user_id=user.pk,
        key=KEY,
        fingerprint=request_fingerprint(method="POST", path=ORGANIZATIONS, query="", body=body.encode()),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(updated_at=timezone.now() - timedelta(seconds=61))

    response = authenticate(user).post(ORGANIZATIONS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert response.status_code == 201
    assert Organization.objects.filter(code="IDEM-6").count() == 1
    record.refresh_from_db()
    assert (record.state, record.status_code) == (IdempotencyState.COMPLETED, 201)


# --- answers that are not stored ---------------------------------------------------------------------


def test_a_5xx_is_not_stored_and_the_retry_runs_again(user):
    client = _client(user, raise_request_exception=False)

    first = _post(client, "/api/v1/test/crash", {"amount": "100.00"})
    second = _post(client, "/api/v1/test/crash", {"amount": "100.00"})

    assert first.status_code == second.status_code == 500
    assert first.json()["code"] == second.json()["code"] == "server_error"
    assert REPLAYED_HEADER not in second
    assert CALLS["crash"] == 2
    assert not IdempotencyRecord.objects.filter(user_id=user.pk).exists()


def test_a_retry_later_refusal_is_not_stored(user, authenticate):
    client = authenticate(user)

    first = _post(client, "/api/v1/test/throttled", {})
    second = _post(client, "/api/v1/test/throttled", {})

    assert first.status_code == second.status_code == 429
    assert REPLAYED_HEADER not in second
    assert CALLS["throttled"] == 2
    assert not IdempotencyRecord.objects.filter(user_id=user.pk).exists()


# --- scope ----------------------------------------------------------------------------------------


def test_the_same_key_of_two_users_never_collides(db):
    alice, bob = UserFactory(), UserFactory()

    for_alice = _post(_client(alice), ORGANIZATIONS, {"code": "IDEM-A", "name": "Alice House"})
    for_bob = _post(_client(bob), ORGANIZATIONS, {"code": "IDEM-B", "name": "Bob House"})

    assert for_alice.status_code == for_bob.status_code == 201
    assert REPLAYED_HEADER not in for_bob
    assert Organization.objects.filter(code__in=["IDEM-A", "IDEM-B"]).count() == 2
    assert set(IdempotencyRecord.objects.filter(key=KEY).values_list("user_id", flat=True)) == {alice.pk, bob.pk}


def test_anonymous_requests_ignore_the_key(api_client, db):
    first = _post(api_client, "/api/v1/test/public-organizations", {"code": "IDEM-P1", "name": "Public One"})
    second = _post(api_client, "/api/v1/test/public-organizations", {"code": "IDEM-P2", "name": "Public Two"})

    assert first.status_code == second.status_code == 201
    assert REPLAYED_HEADER not in second
    assert CALLS["organization_create"] == 2
    assert not IdempotencyRecord.objects.exists()


def test_a_login_with_a_key_is_not_stored(api_client, user):
    body = {"email": user.email, "password": DEFAULT_PASSWORD}

    first = _post(api_client, "/api/v1/auth/token", body)
    second = _post(api_client, "/api/v1/auth/token", body)

    assert first.status_code == second.status_code == 200
    assert REPLAYED_HEADER not in second
    assert first.json()["refresh"] != second.json()["refresh"]
    assert not IdempotencyRecord.objects.exists()


def test_a_request_without_a_key_is_left_alone(user, authenticate):
    response = _post(authenticate(user), ORGANIZATIONS, {"code": "IDEM-NK", "name": "No Key House"}, key=None)

    assert response.status_code == 201
    assert not IdempotencyRecord.objects.exists()


# --- invalid and required keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["", "k" * 256, "ключ-1", '""'], ids=["empty", "256-chars", "non-ascii", "empty-quoted"]
)
def test_an_invalid_key_is_400_and_runs_nothing(user, authenticate, key):
    response = _post(authenticate(user), ORGANIZATIONS, {"code": "IDEM-7", "name": "Invalid Key House"}, key=key)

    _assert_error(response, status=400, code="idempotency_key_invalid")
    assert CALLS["organization_create"] == 0
    assert not IdempotencyRecord.objects.exists()


def test_a_key_of_255_characters_is_accepted(user, authenticate):
    response = _post(authenticate(user), ORGANIZATIONS, {"code": "IDEM-8", "name": "Long Key House"}, key="k" * 255)

    assert response.status_code == 201
    assert IdempotencyRecord.objects.filter(key="k" * 255).exists()


@pytest.mark.parametrize("path", ["/api/v1/test/key-required", "/api/v1/test/key-required-by-decorator"])
def test_an_operation_that_requires_a_key_refuses_a_request_without_one(user, authenticate, path):
    client = authenticate(user)

    without = _post(client, path, {}, key=None)
    with_key = _post(client, path, {})

    _assert_error(without, status=400, code="idempotency_key_required")
    assert with_key.status_code == 201
    assert sum(CALLS.values()) == 1


# --- expiry and pruning --------------------------------------------------------------------------------


def _record(user: User, key: str, *, expires_in: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user_id=user.pk,
        key=key,
        fingerprint="0" * 64,
        state=IdempotencyState.COMPLETED,
        status_code=201,
        expires_at=timezone.now() + expires_in,
    )


def test_a_record_expires_24_hours_after_its_key_was_first_used(user, authenticate):
    before = timezone.now()
    _post(authenticate(user), ORGANIZATIONS, {"code": "IDEM-9", "name": "Expiry House"})

    record = IdempotencyRecord.objects.get(user_id=user.pk, key=KEY)
    assert before + timedelta(hours=24) <= record.expires_at <= timezone.now() + timedelta(hours=24)


def test_the_prune_service_deletes_expired_records_only(user):
    expired = _record(user, "expired", expires_in=-timedelta(seconds=1))
    live = _record(user, "live", expires_in=timedelta(hours=1))

    assert idempotency_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [live.pk]
    assert not IdempotencyRecord.objects.filter(pk=expired.pk).exists()


def test_the_prune_service_works_through_batches(user):
    for i in range(5):
        _record(user, f"expired-{i}", expires_in=-timedelta(minutes=1))

    assert idempotency_prune(batch_size=2) == 5
    assert not IdempotencyRecord.objects.exists()


def test_the_beat_task_prunes_expired_records(user):
    _record(user, "expired", expires_in=-timedelta(seconds=1))
    live = _record(user, "live", expires_in=timedelta(hours=1))

    result = prune_idempotency_keys.apply().get()

    assert result == {"deleted": 1}
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [live.pk]


def test_the_beat_task_is_scheduled_hourly(settings):
    assert settings.PERIODIC_TASKS["core.prune_idempotency_keys"]["task"] == prune_idempotency_keys.name
    assert settings.PERIODIC_TASKS["core.prune_idempotency_keys"]["every_seconds"] == 3600


def test_an_expired_key_not_yet_pruned_runs_the_request_again(user, authenticate, time_machine):
    client = authenticate(user)
    _post(client, ORGANIZATIONS, {"code": "IDEM-10", "name": "Old Key House"})

    later = timezone.now() + timedelta(hours=24, seconds=1)
    time_machine.move_to(later)
    again = _post(_client(user), ORGANIZATIONS, {"code": "IDEM-11", "name": "Old Key House Again"})

    assert again.status_code == 201
    assert REPLAYED_HEADER not in again
    assert CALLS["organization_create"] == 2
    assert IdempotencyRecord.objects.get(user_id=user.pk, key=KEY).created_at >= later
