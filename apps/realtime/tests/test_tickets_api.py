import json
import re

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import issue_tokens
from apps.core.redis import get_redis

TICKET_KEYS = "cotton:realtime:ticket:*"


@pytest.mark.django_db
def test_anonymous_callers_get_no_ticket(api_client):
    response = api_client.post("/api/v1/realtime/tickets/")

    assert response.status_code == 401
    assert get_redis().keys(TICKET_KEYS) == []


@pytest.mark.django_db
def test_an_authenticated_user_gets_a_30_second_ticket_and_the_stream_url(authenticate):
    client = authenticate(UserFactory())

    response = client.post("/api/v1/realtime/tickets/")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"ticket", "expires_in", "url"}
    assert body["expires_in"] == 30
    assert re.fullmatch(r"[A-Za-z0-9_\-]{43}", body["ticket"])
    assert body["url"] == f"/ws/v1/stream/?ticket={body['ticket']}"
    (key,) = get_redis().keys(TICKET_KEYS)
    assert body["ticket"] not in key  # stored under a hash, never the usable value
    assert 29_000 < get_redis().pttl(key) <= 30_000


@pytest.mark.django_db
def test_every_request_gets_a_new_ticket(authenticate):
    client = authenticate(UserFactory())

    first = client.post("/api/v1/realtime/tickets/").json()["ticket"]
    second = client.post("/api/v1/realtime/tickets/").json()["ticket"]

    assert first != second
    assert len(get_redis().keys(TICKET_KEYS)) == 2


@pytest.mark.django_db
def test_the_ticket_remembers_when_the_access_token_it_was_bought_with_expires(api_client):
    user = UserFactory()
    access = AccessToken(issue_tokens(user).access)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    api_client.post("/api/v1/realtime/tickets/")

    (key,) = get_redis().keys(TICKET_KEYS)
    stored = json.loads(get_redis().get(key))
    assert (stored["user_id"], stored["access_expires_at"]) == (str(user.pk), access["exp"])
