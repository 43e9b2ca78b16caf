"""One HTTP POST of a webhook: no redirects, a timeout, at most a kilobyte of the answer read.

The connection goes to the address the destination check approved (TLS still verifies the
certificate against the host name, sent as SNI), so DNS cannot change between check and send.
Proxies from the environment are ignored for the same reason.
"""

from __future__ import annotations

import functools
import ssl
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from apps.webhooks.destinations import Destination, IPAddress

USER_AGENT = "CottonERP-Webhooks/1"


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str = ""
    retry_after: str | None = None
    location: str | None = None
    error: str = ""


def post(destination: Destination, *, body: str, headers: dict[str, str]) -> SendResult:
    """POST `body` to the destination. Never raises for network or HTTP failures: they come back
    as a SendResult with `error` (and no status code when nothing was answered). When a host has
    several addresses, the next is tried only if connecting to one is refused."""
    result = SendResult(status_code=None, latency_ms=0, error="No address to connect to.")
    for address in destination.addresses:
        result, refused = _post_to(destination, address, body=body, headers=headers)
        if not refused:
            break
    return result


def _post_to(
    destination: Destination, address: IPAddress, *, body: str, headers: dict[str, str]
) -> tuple[SendResult, bool]:
    url = httpx.URL(destination.url)
    request_headers = {
        **headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": url.netloc.decode("ascii"),
    }
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    limit = int(settings.WEBHOOKS_RESPONSE_EXCERPT_BYTES)
    timeout = float(settings.WEBHOOKS_TIMEOUT_SECONDS)
    started = time.perf_counter()
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls_context()) as client,
            client.stream(
                "POST",
                url.copy_with(host=str(address)),
                content=body.encode("utf-8"),
                headers=request_headers,
                extensions=extensions,
            ) as response,
        ):
            latency_ms = _elapsed_ms(started)
            excerpt = bytearray()
            body_error = ""
            try:
                for chunk in response.iter_bytes():
                    excerpt.extend(chunk)
                    if len(excerpt) >= limit:
                        break
                    if time.perf_counter() - started > timeout:  # a trickling answer holds no worker
                        body_error = "reading the response body stopped at the timeout"
                        break
            except httpx.HTTPError as exc:  # the status decides; the excerpt is best effort
                body_error = f"reading the response body: {_describe(exc)}"
            return SendResult(
                status_code=response.status_code,
                latency_ms=latency_ms,
                response_excerpt=_text(bytes(excerpt[:limit])),
                retry_after=response.headers.get("retry-after"),
                location=response.headers.get("location"),
                error=body_error,
            ), False
    except httpx.TimeoutException as exc:
        return SendResult(status_code=None, latency_ms=_elapsed_ms(started), error=f"timeout: {_describe(exc)}"), False
    except httpx.ConnectError as exc:
        return SendResult(status_code=None, latency_ms=_elapsed_ms(started), error=_describe(exc)), True
    except httpx.HTTPError as exc:
        return SendResult(status_code=None, latency_ms=_elapsed_ms(started), error=_describe(exc)), False


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The TLS settings a client would build for itself (verify against the default CA bundle,
    nothing from the environment), built once: building them loads the CA bundle, about 40 ms,
    which a client per attempt would otherwise pay on every delivery (bench/webhook_throughput.py).
    An SSLContext is safe to share between clients and threads."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL.
    return raw.decode("utf-8", errors="replace").replace("\x00", "")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
