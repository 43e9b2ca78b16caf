#!/usr/bin/env python3
"""Websocket soak: hold one idle stream socket open against a running server and report how it ends.

Not part of `make test` (it runs for an hour by default). The client sends nothing but the pongs
the server's heartbeat asks for, so the socket is as idle as a browser tab left open. It passes
when the socket is still open at the end and a probe ping is answered; it fails (exit 1) on any
close, with its code, or on a connection cut without a close frame.

    make run                                             # in one shell (or any running server)
    .venv/bin/python scripts/ws_soak.py --email admin@cotton.example --password CottonDemo1

The ticket is bought with an access token, and the server closes the socket (4401) when that
token expires: start the server with JWT_ACCESS_MINUTES above the soak length, e.g.
`JWT_ACCESS_MINUTES=90 make run`. The script refuses to start when the token would expire first.
Options: --base-url (http://127.0.0.1:8000), --seconds (3600), --sockets (1).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
import urllib.request
from typing import Any


def _post_json(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def _token_expiry(access: str) -> float:
    payload = access.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return float(json.loads(base64.urlsafe_b64decode(payload))["exp"])


async def soak_one(index: int, base_url: str, access: str, seconds: float) -> tuple[bool, str]:
    import websockets

    ticket = _post_json(f"{base_url}/api/v1/realtime/tickets/", {}, token=access)
    ws_url = base_url.replace("http", "ws", 1) + ticket["url"]
    started = time.monotonic()
    pings = 0
    async with websockets.connect(ws_url, origin=base_url, ping_interval=None) as socket:  # type: ignore[arg-type]
        ready = json.loads(await socket.recv())
        heartbeat = float(ready.get("heartbeat_seconds", 25))
        print(f"[{index}] open, heartbeat every {heartbeat:g} s", flush=True)
        try:
            while (left := seconds - (time.monotonic() - started)) > 0:
                try:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=left))
                except TimeoutError:
                    break
                if frame.get("type") == "ping":
                    pings += 1
                    await socket.send(json.dumps({"action": "pong"}))
                    if pings % 20 == 0:
                        print(f"[{index}] {time.monotonic() - started:.0f} s open, {pings} pings", flush=True)
            await socket.send(json.dumps({"action": "ping"}))
            while (frame := json.loads(await asyncio.wait_for(socket.recv(), timeout=10))).get("type") != "pong":
                pass
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            how = f"close code {code}" if code is not None else "cut without a close frame"
            return False, f"[{index}] closed after {time.monotonic() - started:.0f} s: {how}"
    return True, f"[{index}] open for {seconds:.0f} s, {pings} pings answered, probe answered"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--sockets", type=int, default=1)
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")

    tokens = _post_json(f"{base_url}/api/v1/auth/token", {"email": args.email, "password": args.password})
    access = tokens["access"]
    if _token_expiry(access) < time.time() + args.seconds + 30:
        print("The access token expires before the soak ends: restart the server with a larger JWT_ACCESS_MINUTES.")
        return 2
    results = await asyncio.gather(*(soak_one(i, base_url, access, args.seconds) for i in range(args.sockets)))
    for _, line in results:
        print(line)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
