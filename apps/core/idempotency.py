"""`Idempotency-Key` for unsafe API requests (ARCHITECTURE section 11, after the IETF draft
"The Idempotency-Key HTTP Header Field").

A POST, PUT, PATCH or DELETE under `/api/v1/` that carries `Idempotency-Key` from an
authenticated caller:

- claims the key for that user: `INSERT ... ON CONFLICT DO NOTHING`, committed at once, so a
  concurrent twin sees the claim and is answered 409 `idempotency_key_in_progress`;
- runs the view, then stores its status, `Content-Type`, `Location` and body (COMPLETED). A 5xx,
  and the refusals that mean "nothing happened, retry" (408, 409, 425, 429), release the key
  instead, so the retry runs again;
- answers a repeat of the same request with the stored response plus `Idempotent-Replayed: true`,
  running nothing; the same key with another method, path, query or body gets 422
  `idempotency_key_reused`; an empty, over-long (> 255) or non-ASCII key 400 `idempotency_key_invalid`.

Keys belong to the user the request authenticates as (the view's own DRF authenticators are run
here, since JWT authentication happens inside DRF, after Django middleware). Anonymous requests
(the login endpoints) ignore the header: their responses carry tokens that must not rest in a
table, and one shared anonymous namespace would let any caller block or probe another's key.

Records expire after `IDEMPOTENCY_TTL_SECONDS` (24 h); `idempotency_prune` (a beat task) deletes
them, and an expired record not yet pruned counts as absent. A claim whose request died with its
process is taken over after `IDEMPOTENCY_LOCK_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import BaseParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings

from apps.core.errors import DomainError
from apps.core.exception_handler import error_body
from apps.core.logging import get_logger
from apps.core.models import IdempotencyRecord, IdempotencyState

log = get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
API_PREFIX = "/api/v1/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEPT_HEADERS = ("Content-Type", "Location")
# "Nothing happened, try again" answers: storing one would replay a transient refusal for a day.
RELEASED_STATUSES = frozenset({408, 409, 425, 429})
MAX_KEY_LENGTH = 255
# The draft's key is a structured-field string: printable ASCII.
_VALID_KEY = re.compile(rf"^[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}$")
# Set on the request once its key is claimed: what `RequiresIdempotencyKey` checks.
REQUEST_ATTR = "idempotency_key"
_CLAIM_ATTR = "_idempotency_record_id"
_CLAIM_ATTEMPTS = 3


class IdempotencyKeyInvalid(DomainError):
    code = "idempotency_key_invalid"
    status = 400
    default_detail = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    status = 400
    default_detail = (
        "This operation requires an Idempotency-Key header: a unique value (e.g. a UUID) per operation, "
        "repeated unchanged on every retry."
    )


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    default_detail = (
        "This Idempotency-Key was already used for a different request (method, path, query or body); "
        "use a new key for a new request."
    )


class IdempotencyKeyInProgress(DomainError):
    code = "idempotency_key_in_progress"
    status = 409
    default_detail = "The first request with this Idempotency-Key is still being processed; retry shortly."


class IdempotencyBodyTooLarge(DomainError):
    code = "idempotency_body_too_large"
    status = 413
    default_detail = "A request carrying Idempotency-Key may not be larger than DATA_UPLOAD_MAX_MEMORY_SIZE."


def ttl() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)


def lock_timeout() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS)


# --- services ------------------------------------------------------------------------------------


class ClaimOutcome(Enum):
    CLAIMED = "claimed"  # run the request; `record_id` is ours
    REPLAY = "replay"  # completed with the same fingerprint: answer `record`
    REUSED = "reused"  # the key belongs to another request
    IN_PROGRESS = "in_progress"  # its first request still runs


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record_id: uuid.UUID | None = None
    record: IdempotencyRecord | None = None


def request_fingerprint(*, method: str, path: str, query: str, body: bytes) -> str:
    """sha256 (hex) of what makes two requests "the same request" for one key."""
    digest = hashlib.sha256(f"{method.upper()}\n{path}\n{query}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _insert_claim(*, user_id: uuid.UUID, key: str, fingerprint: str, now: datetime) -> uuid.UUID | None:
    q = connection.ops.quote_name
    columns = (
        "id",
        "user_id",
        "key",
        "fingerprint",
        "state",
        "headers",
        "body",
        "created_at",
        "updated_at",
        "expires_at",
    )
    record_id = uuid.uuid4()
    sql = (
        f"INSERT INTO {q(IdempotencyRecord._meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, '{}'::jsonb, ''::bytea, %s, %s, %s) "
        f"ON CONFLICT ({q('user_id')}, {q('key')}) DO NOTHING RETURNING {q('id')}"
    )
    params: list[Any] = [record_id, user_id, key, fingerprint, IdempotencyState.IN_PROGRESS, now, now, now + ttl()]
    # Its own transaction (a savepoint if a caller already opened one): the claim is visible to a
    # concurrent twin as soon as it is made, before the view runs.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    return record_id if inserted else None


def idempotency_claim(*, user_id: uuid.UUID, key: str, fingerprint: str) -> Claim:
    """Claim `key` of `user_id` for the request with `fingerprint`, or say why not.

    An expired record still in the table counts as absent (it is deleted and the key claimed
    anew); an IN_PROGRESS claim older than the lock timeout is taken over by one caller only
    (conditional UPDATE on its claim time).
    """
    for _ in range(_CLAIM_ATTEMPTS):
        now = timezone.now()
        record_id = _insert_claim(user_id=user_id, key=key, fingerprint=fingerprint, now=now)
        if record_id is not None:
            return Claim(ClaimOutcome.CLAIMED, record_id=record_id)
        existing = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
        if existing is None:
            continue  # released (a 5xx) between our insert and this read: claim again
        if existing.expires_at <= now:
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.fingerprint != fingerprint:
            return Claim(ClaimOutcome.REUSED)
        if existing.state == IdempotencyState.COMPLETED:
            return Claim(ClaimOutcome.REPLAY, record=existing)
        if existing.updated_at <= now - lock_timeout():
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, state=IdempotencyState.IN_PROGRESS, updated_at=existing.updated_at
            ).update(updated_at=now)
            if taken:
                log.warning("idempotency.claim_taken_over", key=key, record_id=str(existing.pk))
                return Claim(ClaimOutcome.CLAIMED, record_id=existing.pk)
        return Claim(ClaimOutcome.IN_PROGRESS)
    return Claim(ClaimOutcome.IN_PROGRESS)


def idempotency_complete(*, record_id: uuid.UUID, status_code: int, headers: dict[str, str], body: bytes) -> bool:
    """Store the response of a claimed key. False if the claim is gone or already completed."""
    updated = IdempotencyRecord.objects.filter(pk=record_id, state=IdempotencyState.IN_PROGRESS).update(
        state=IdempotencyState.COMPLETED,
        status_code=status_code,
        headers=headers,
        body=body,
        updated_at=timezone.now(),
    )
    return updated == 1


def idempotency_release(*, record_id: uuid.UUID) -> None:
    """Forget a claim whose request must be allowed to run again (5xx, transient refusals)."""
    IdempotencyRecord.objects.filter(pk=record_id, state=IdempotencyState.IN_PROGRESS).delete()


def idempotency_prune(*, now: datetime | None = None, batch_size: int = 5000) -> int:
    """Delete expired records in batches (short transactions); returns how many went."""
    now = now or timezone.now()
    deleted = 0
    while True:
        batch = list(IdempotencyRecord.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[:batch_size])
        if not batch:
            break
        count, _ = IdempotencyRecord.objects.filter(pk__in=batch).delete()
        deleted += count
        if len(batch) < batch_size:
            break
    return deleted


# --- middleware -------------------------------------------------------------------------------------


def parse_key(raw: str) -> str | None:
    """The key of a header value, or None when invalid. A structured-field string's quotes
    (`"abc"`, the draft's form) are removed, so `"abc"` and `abc` are the same key."""
    value = raw.strip()
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return value if _VALID_KEY.match(value) else None


def _refusal(error: DomainError) -> JsonResponse:
    response = JsonResponse(
        error_body(status_code=error.status, code=error.code, detail=error.detail), status=error.status
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def _replay(record: IdempotencyRecord) -> HttpResponse:
    assert record.status_code is not None  # a COMPLETED record has one (check constraint)
    response = HttpResponse(bytes(record.body), status=record.status_code)
    del response["Content-Type"]  # HttpResponse's text/html default; the stored one (if any) follows
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _authenticated_user_id(request: HttpRequest, view_func: Callable[..., Any]) -> uuid.UUID | None:
    """The id of the user the view will authenticate, by running its DRF authenticators.

    A failing authenticator (bad token, CSRF) means anonymous here: the view refuses the request
    on its own. Nothing is written back to `request.user`.
    """
    view_class = getattr(view_func, "cls", None)
    # api_settings holds the imported classes at runtime (the stubs say strings).
    authentication_classes = cast(
        "Sequence[type[BaseAuthentication]]",
        getattr(view_class, "authentication_classes", api_settings.DEFAULT_AUTHENTICATION_CLASSES),
    )
    parser_classes = cast(
        "Sequence[type[BaseParser]]", getattr(view_class, "parser_classes", api_settings.DEFAULT_PARSER_CLASSES)
    )
    # Parsers: SessionAuthentication's CSRF check reads form data through the wrapper.
    drf_request = Request(
        request,
        parsers=[parser() for parser in parser_classes],
        authenticators=[authenticator() for authenticator in authentication_classes],
    )
    for authenticator in drf_request.authenticators or ():
        try:
            result = authenticator.authenticate(drf_request)
        except exceptions.APIException:
            return None
        if result is None:
            continue
        user, pk = result[0], getattr(result[0], "pk", None)
        if not getattr(user, "is_authenticated", False) or pk is None:
            return None
        return uuid.UUID(str(pk))
    return None


class IdempotencyMiddleware:
    """Place after AuthenticationMiddleware (SessionAuthentication reads the session user).

    Sync and async (issue 15): under ASGI the chain stays on the event loop. A request the key
    does not apply to (a GET, no header, outside the API) costs no thread hop; one it applies to
    claims, replays and stores in Django's thread for the request (`sync_to_async`, thread
    sensitive: the view's own thread and database connection), exactly as under WSGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
            # Django adapts process_view to the handler's mode: a sync one would cost every
            # request under ASGI a hop to a thread and back, only to return None for a GET.
            setattr(self, "process_view", self._aprocess_view)  # noqa: B010

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        try:
            response = self.get_response(request)
        except BaseException:
            record_id = getattr(request, _CLAIM_ATTR, None)
            if record_id is not None:
                idempotency_release(record_id=record_id)
            raise
        record_id = getattr(request, _CLAIM_ATTR, None)
        if record_id is not None:
            self._finish(record_id, response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            response: HttpResponseBase = await self.get_response(request)  # type: ignore[misc]
        except BaseException:
            record_id = getattr(request, _CLAIM_ATTR, None)
            if record_id is not None:
                await sync_to_async(idempotency_release)(record_id=record_id)
            raise
        record_id = getattr(request, _CLAIM_ATTR, None)
        if record_id is not None:
            await sync_to_async(self._finish)(record_id, response)
        return response

    @staticmethod
    def _applies(request: HttpRequest) -> bool:
        return (
            HEADER in request.headers and request.method in UNSAFE_METHODS and request.path_info.startswith(API_PREFIX)
        )

    async def _aprocess_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if not self._applies(request):
            return None
        # The body read, the authenticators and the claim's SQL are sync: one hop for all of them.
        return await sync_to_async(self._process_view)(request, view_func, view_args, view_kwargs)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if not self._applies(request):
            return None
        return self._process_view(request, view_func, view_args, view_kwargs)

    def _process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        raw_key = request.headers[HEADER]
        assert request.method is not None  # _applies: one of UNSAFE_METHODS
        try:
            # Read before authenticating: the DRF wrapper then parses a copy, never the stream.
            body = request.body
        except RequestDataTooBig:
            return _refusal(IdempotencyBodyTooLarge())
        user_id = _authenticated_user_id(request, view_func)
        if user_id is None:
            return None  # anonymous: the key does not apply (module docstring)
        key = parse_key(raw_key)
        if key is None:
            return _refusal(IdempotencyKeyInvalid())
        fingerprint = request_fingerprint(
            method=request.method, path=request.path, query=request.META.get("QUERY_STRING", ""), body=body
        )
        claim = idempotency_claim(user_id=user_id, key=key, fingerprint=fingerprint)
        if claim.outcome is ClaimOutcome.CLAIMED:
            setattr(request, _CLAIM_ATTR, claim.record_id)
            setattr(request, REQUEST_ATTR, key)
            return None
        if claim.outcome is ClaimOutcome.REPLAY:
            assert claim.record is not None
            return _replay(claim.record)
        if claim.outcome is ClaimOutcome.REUSED:
            return _refusal(IdempotencyKeyReused())
        return _refusal(IdempotencyKeyInProgress(headers={"Retry-After": "1"}))

    def _finish(self, record_id: uuid.UUID, response: HttpResponseBase) -> None:
        status = response.status_code
        try:
            if status >= 500 or status in RELEASED_STATUSES or response.streaming:
                idempotency_release(record_id=record_id)
                return
            assert isinstance(response, HttpResponse)
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            idempotency_complete(record_id=record_id, status_code=status, headers=headers, body=response.content)
        except DatabaseError:
            # The request itself succeeded: answer it. The claim stays IN_PROGRESS (retries get
            # 409) until the lock timeout lets a retry take it over.
            log.exception("idempotency.finish_failed", record_id=str(record_id), status=status)


# --- views that require a key -----------------------------------------------------------------------


def ensure_idempotency_key(request: HttpRequest | Request) -> None:
    """Raise 400 `idempotency_key_required` unless the middleware claimed a key for this request."""
    if getattr(request, REQUEST_ATTR, None) is None:
        raise IdempotencyKeyRequired()


class RequiresIdempotencyKey(BasePermission):
    """For views whose unsafe methods move money: `permission_classes = [IsAuthenticated, RequiresIdempotencyKey]`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method not in SAFE_METHODS:
            ensure_idempotency_key(request)
        return True


ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Any])


def require_idempotency_key(method: ViewMethod) -> ViewMethod:
    """The same as `RequiresIdempotencyKey`, for one handler method: `@require_idempotency_key def post(...)`."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        ensure_idempotency_key(request)
        return method(self, request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
