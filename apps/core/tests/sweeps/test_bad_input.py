"""Bad-input sweep over every operation of the OpenAPI schema (issue 14, "a permanent sweep").

Hand-crafted hostile inputs, complementing the Schemathesis run (test_api_fuzz.py, generated
inputs): for every operation the schema documents (so new ones join by themselves), as the platform
admin (and the hostile values of bodies again as a partner owner), with path parameters naming
real seeded objects:

    bodies        nested 5,000 deep; over the size limit; NaN / Infinity literals; NUL in every
                  string and in a key; every number huge, huge negative, -1, "NaN", "1e400",
                  "1_000"; every date and time in year 1 and year 9999
    query         every documented parameter NUL, huge, negative, far past, far future; odd cursors
                  on cursor-paged lists; 1,001 parameters

Never a 5xx; every 4xx in the error shape (`type`, `code`, `detail`, `errors`, `request_id`, the
last equal to the X-Request-ID header); a date in year 1 is never accepted with a 2xx (year
9999 may be: a vehicle's insurance may run "until further notice").
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from apps.core.tests.sweeps.support import World, idempotency_key, path_values

# One xdist worker runs, one after the other, the tests that hold a long transaction (the sweeps'
# seeded world) and those that wait for the feed's visibility horizon, which any running
# transaction on the server holds back (`make test` runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("outbox_horizon")

ERROR_KEYS = {"type", "code", "detail", "errors", "request_id"}
BIG_BODY = 3 * 1024 * 1024  # over the 2.5 MB default (settings.API_BODY_MAX_BYTES)
NUL = "a\x00b"
HUGE = 10**40
# The date-times sit at the edges of what Python can hold: in UTC they fall in year 0 and 10000.
FAR_DATES = {
    "date": ("0001-01-01", "9999-12-31"),
    "date-time": ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"),
}
ODD_CURSORS = (
    "",
    "@@@",
    "%00",
    "A" * 5000,
    base64.b64encode(b"o=1&r=0&p=" + b"9" * 400).decode(),
    base64.b64encode(b"o=-1").decode(),
    base64.b64encode(b"o=99999999999999999999999").decode(),
    base64.b64encode(b"p=0001-01-01T00:00:00Z").decode(),
    base64.b64encode(b"p=\x00").decode(),
    base64.b64encode("p=é".encode()).decode(),
    base64.b64encode(b"x=1").decode(),
)


@functools.cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, item in _schema()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _schema()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0])
    return schema


def _properties(operation: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The JSON body's properties (resolved), or None when the operation takes no JSON body."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    body = _resolve(content["application/json"]["schema"])
    return {name: _resolve(prop) for name, prop in body.get("properties", {}).items()}


def _kind(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "string")
    if kind == "string" and prop.get("format") in ("decimal", "double", "float"):
        return "number"
    if kind == "string" and prop.get("format") in FAR_DATES:
        return prop["format"]
    return kind if isinstance(kind, str) else "string"


def _plain(prop: dict[str, Any]) -> Any:
    """A harmless value of the property's type, so the hostile one is not alone."""
    if prop.get("enum"):
        return next((v for v in prop["enum"] if v not in (None, "")), "")
    return {"integer": 1, "number": "1", "boolean": True, "array": [], "object": {}}.get(_kind(prop), "x")


def _body(props: dict[str, dict[str, Any]], kind: str, value: Any) -> bytes:
    return json.dumps({name: value if _kind(p) in kind.split("|") else _plain(p) for name, p in props.items()}).encode()


def _bodies(props: dict[str, dict[str, Any]], *, shapes: bool) -> list[tuple[str, bytes]]:
    """Hostile values in every property; with `shapes`, hostile shapes of the body itself too (the
    parser's and the size limit's business: the same for every caller)."""
    first = next(iter(props), "x")
    bodies = [
        ("nested 5000", f'{{"{first}": {"[" * 5000}1{"]" * 5000}}}'.encode()),
        ("over the size limit", b'{"' + first.encode() + b'": "' + b"x" * BIG_BODY + b'"}'),
        ("NaN literal", f'{{"{first}": NaN}}'.encode()),
        ("Infinity literal", f'{{"{first}": -Infinity}}'.encode()),
        ("NUL in a key", json.dumps({NUL: 1, **{n: _plain(p) for n, p in props.items()}}).encode()),
        ("NUL in every string", _body(props, "string|date|date-time", NUL)),
        ("not an object", b"[1, 2, 3]"),
    ]
    if not shapes:
        bodies = bodies[4:6]
    kinds = {_kind(p) for p in props.values()}
    if not kinds & {"number", "integer"}:
        return bodies + _far_dates(props, kinds)
    for label, value in (
        ("huge", HUGE),
        ("huge negative", -HUGE),
        ("negative", -1),
        ("'NaN'", "NaN"),
        ("'1e400'", "1e400"),
        ("'1_000'", "1_000"),
    ):
        bodies.append((f"{label} numbers", _body(props, "number|integer", value)))
    return bodies + _far_dates(props, kinds)


def _far_dates(props: dict[str, dict[str, Any]], kinds: set[str]) -> list[tuple[str, bytes]]:
    bodies = []
    for fmt, (past, future) in FAR_DATES.items():
        if fmt in kinds:
            bodies.append((f"far past {fmt}", _body(props, fmt, past)))
            bodies.append((f"far future {fmt}", _body(props, fmt, future)))
    return bodies


def _queries(operation: dict[str, Any]) -> list[tuple[str, str]]:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    queries = [("1001 parameters", "&".join(f"p{i}=1" for i in range(1001)))]
    for label, value in (
        ("NUL", "a%00b"),
        ("huge", "9" * 40),
        ("negative", "-1"),
        ("far past", "0001-01-01"),
        ("far future", "9999-12-31"),
        ("far past time", "0001-01-01T00:00:00%2B14:00"),
        ("far future time", "9999-12-31T23:59:59-12:00"),
    ):
        if names:
            queries.append((f"{label} parameters", "&".join(f"{name}={value}" for name in names)))
    if "cursor" in names:
        queries.extend((f"cursor {c[:20]!r}", "cursor=" + c.replace("+", "%2B")) for c in ODD_CURSORS)
    return queries


def _problem(response: Any) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} {response.content[:200]!r}"
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{response.status_code}, not JSON: {response.content[:200]!r}"
    if not isinstance(body, dict) or not body.keys() >= ERROR_KEYS:
        return f"{response.status_code}, not the error shape: {body!r:.200}"
    if not isinstance(body["code"], str) or not body["code"]:
        return f"{response.status_code} without a code: {body!r:.200}"
    if body["request_id"] != response.get("X-Request-ID"):
        return f"{response.status_code}: request_id {body['request_id']!r} is not the X-Request-ID header"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), _operations())
def test_hostile_input_never_gives_a_server_error_and_errors_keep_their_shape(
    world: World, path: str, method: str
) -> None:
    operation = _schema()["paths"][path][method]
    url = path_values(path, world)
    props = _properties(operation)
    problems: list[str] = []
    requests = 0

    # The platform admin passes every permission check, so its requests reach every parser and
    # serializer; the partner owner repeats the hostile values where partners write.
    for user in (world.platform_admin, world.victim_partner_user):
        client = Client(headers={"Authorization": f"Bearer {world.token(user)}"})
        admin = user is world.platform_admin
        for label, query in _queries(operation) if admin else []:
            response = client.generic(
                method.upper(),
                f"{url}?{query}",
                b"{}" if method != "get" else b"",
                content_type="application/json",
                headers={"Idempotency-Key": idempotency_key()},
            )
            requests += 1
            if found := _problem(response):
                problems.append(f"{user.user_type} {method.upper()} {url} query {label}: {found}")
        if props is None:
            continue
        for label, body in _bodies(props, shapes=admin):
            response = client.generic(
                method.upper(),
                url,
                body,
                content_type="application/json",
                headers={"Idempotency-Key": idempotency_key()},
            )
            requests += 1
            if found := _problem(response):
                problems.append(f"{user.user_type} {method.upper()} {url} body {label}: {found}")
            elif label.startswith("far past") and response.status_code < 300:
                problems.append(
                    f"{user.user_type} {method.upper()} {url} body {label}: accepted ({response.status_code})"
                )

    assert not problems, f"{len(problems)} of {requests} requests\n" + "\n".join(problems)


def test_the_sweep_covers_every_operation_of_the_schema() -> None:
    operations = _operations()

    assert len(operations) >= 150  # the schema was read (a floor, not a pin)
    assert sum(_properties(_schema()["paths"][p][m]) is not None for p, m in operations) >= 60
