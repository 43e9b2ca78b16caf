"""A webhook receiver for bench/webhook_throughput.py, run as its own process (so its threads do
not share the benchmark's interpreter lock): `python -m bench.receiver`.

http.server's ThreadingHTTPServer on 127.0.0.1 (a free port, printed as the first line of
stdout). POST: read the body, answer 204, count it and keep the first few requests (headers and
body) so the benchmark can verify their signatures. GET /stats: {"count", "samples"} as JSON.
No Django here.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEEP_SAMPLES = 20


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.count = 0
        self.samples: list[dict[str, Any]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.lock:
            self.server.count += 1
            if len(self.server.samples) < KEEP_SAMPLES:
                self.server.samples.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body.decode("utf-8")}
                )
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        with self.server.lock:
            payload = json.dumps({"count": self.server.count, "samples": self.server.samples}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_DELETE(self) -> None:  # reset between the baseline and the figure
        with self.server.lock:
            self.server.count = 0
            self.server.samples = []
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    server = Server()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
