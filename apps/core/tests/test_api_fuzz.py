"""Schemathesis over the live OpenAPI schema (ARCHITECTURE section 13): every operation, valid and
invalid inputs, as a platform admin. A 5xx is a bug, every status answered must be documented,
and every 4xx has the one error shape
`{"type", "code", "detail", "errors", "request_id"}` (section 6).

The budget is small and derandomized so the test is deterministic and quick; run the same loop
with a larger `max_examples` to hunt. Path parameters are filled with ids of existing objects (the
demo data plus a webhook endpoint) so updates and actions reach their serializers and services
instead of stopping at a 404 on a random UUID.

`transaction=True`: schemathesis calls the WSGI app in this thread, so each request commits as
it would in production (a refused write cannot poison the requests after it).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import schemathesis
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.tests.factories import SuperAdminFactory
from apps.accounts.tokens import issue_tokens
from apps.organizations.models import Organization
from apps.webhooks.tests.factories import WebhookEndpointFactory
from cotton_erp.wsgi import application

ERROR_KEYS = {"type", "code", "detail", "errors", "request_id"}
MAX_EXAMPLES = 5
PATH_PARAMETER = re.compile(r"(\{[^}]+\})")
# Logging out ends the session it is called with, or every session of its user (`all`): it is fuzzed
# as another admin, with a fresh session per request, so it cannot log the run out. None is excluded.
LOGOUT = "POST /api/v1/auth/logout"


def _existing_path_parameters(client: Any, headers: dict[str, str], path: str) -> dict[str, str] | None:
    """Fill each `{name}` with the first id its parent collection lists, or None when it lists none."""
    values: dict[str, str] = {}
    url = ""
    for part in PATH_PARAMETER.split(path):
        if not part.startswith("{"):
            url += part
            continue
        name = part[1:-1]
        if name == "kind":
            values[name] = "payment"
        else:
            response = client.get(url, headers=headers)
            if response.status_code != 200:
                return None
            data = response.json()
            rows = data.get("results", []) if isinstance(data, dict) else data
            if not rows:
                return None
            # A row names itself `id`, or by the parameter's own name (employees: `user_id`).
            values[name] = str(rows[0].get(name) or rows[0]["id"])
        url += values[name]
    return values


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    path_parameters: dict[str, str],
    headers: Callable[[], dict[str, str]],
    problems: list[str],
) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        if path_parameters:
            case.path_parameters = dict(path_parameters)
        response = case.call(headers=headers())
        request = f"{response.request.method} {response.request.url} body={response.request.body!r:.300}"
        try:
            case.validate_response(
                response,
                checks=[
                    not_a_server_error,
                    response_schema_conformance,
                    content_type_conformance,
                    # Every status answered is documented (the error answers by apps/core/openapi.py).
                    status_code_conformance,
                ],
            )
        except FailureGroup as exc:
            problems.append(f"{operation.label} [{mode}] {request}\n  {exc}")
            return
        if response.status_code >= 400:
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                body = None
            if not (isinstance(body, dict) and body.keys() >= ERROR_KEYS):
                problems.append(
                    f"{operation.label} [{mode}] {request}\n  {response.status_code}: {response.content[:300]!r}"
                )

    with contextlib.suppress(Unsatisfiable):  # an operation without inputs has no invalid request to make
        call()


@pytest.mark.django_db(transaction=True)
def test_no_operation_answers_a_server_error_or_an_unshaped_error() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    WebhookEndpointFactory(organization_id=Organization.objects.order_by("code").first().id)
    admin, leaving = SuperAdminFactory(), SuperAdminFactory()
    headers = {"Authorization": f"Bearer {issue_tokens(admin).access}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    client = Client()
    problems: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        path_parameters = _existing_path_parameters(client, headers, operation.path) or {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if operation.label == LOGOUT:
                _fuzz(
                    operation, mode, {}, lambda: {"Authorization": f"Bearer {issue_tokens(leaving).access}"}, problems
                )
            else:
                _fuzz(operation, mode, path_parameters, lambda: headers, problems)

    assert not problems, "\n".join(problems)
    assert client.get("/api/v1/me", headers=headers).status_code == 200, "the run was not authenticated throughout"
