"""Small hostile HTTPS servers on 127.0.0.1: what a proxy gone wrong, a stalled host or a buggy gateway answers.

`HostileServer(behaviour)` serves until stopped (or its own deadline); `behaviour(handler, method, path, body)` writes
the answer through the handler's helpers. Every server is bounded: it stops by itself after `lifetime` seconds, and a
stalling handler waits at most that long. Plain Jira-shaped answers for the endpoints a sync touches on the way
(`/myself`, `/field`, ...) come from `jira_basics`.
"""

from __future__ import annotations

import json
import socket
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlsplit

from integration_tests.fake_jira.server import make_tls

Behaviour = Callable[["HostileHandler", str, str, Any], Optional[bool]]


class HostileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        path = urlsplit(self.path).path
        owner = self.server.owner
        with owner.lock:
            owner.requests.append({"method": method, "path": self.path, "headers": dict(self.headers), "body": body})
        handled = owner.behaviour(self, method, path, body)
        if handled is None and not jira_basics(self, method, path):
            self.json(404, {"errorMessages": [f"null for uri: {path}"], "errors": {}})

    # --- answers ------------------------------------------------------------------------------------
    def send(self, status: int, data: bytes, content_type: str = "application/json", headers: Optional[Dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def json(self, status: int, obj: Any, headers: Optional[Dict[str, str]] = None) -> None:
        self.send(status, json.dumps(obj).encode(), headers=headers)

    def stall(self) -> None:
        """Say nothing until the server stops."""
        self.server.owner.stopped.wait(self.server.owner.lifetime)
        self.close_connection = True

    def headers_then_silence(self, length: int = 100_000) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()
        self.stall()

    def trickle(self, every: float, length: int = 100_000) -> None:
        """A body that never stops coming: one byte every `every` seconds."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(b"{")
        self.wfile.flush()
        owner = self.server.owner
        try:
            for _ in range(length - 1):
                if owner.stopped.wait(every):
                    break
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def drop(self) -> None:
        """Close the connection without an answer (as a server closing an idle keep-alive connection)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


MYSELF = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Hostile", "timeZone": "UTC", "active": True, "accountType": "atlassian"}


def jira_basics(handler: HostileHandler, method: str, path: str) -> bool:
    """Ordinary answers for what a sync asks on the way to the endpoint under test."""
    if path.endswith("/myself"):
        handler.json(200, MYSELF)
        return True
    if path.endswith("/field"):
        handler.json(200, [])
        return True
    if path.endswith("/serverInfo"):
        handler.json(200, {"baseUrl": "https://127.0.0.1", "deploymentType": "Cloud", "version": "1001.0.0"})
        return True
    return False


def json_routes(routes: Dict[str, Any]) -> Behaviour:
    """A behaviour answering 200 with a fixed JSON body for each path ending (or containing, for `search/jql`) the
    key; everything else falls through to `jira_basics`."""

    def behaviour(handler: HostileHandler, method: str, path: str, body: Any) -> Optional[bool]:
        for ending, answer in routes.items():
            if path.endswith(ending):
                handler.json(200, answer)
                return True
        return None

    return behaviour


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: "HostileServer"

    def finish_request(self, request: socket.socket, client_address: Any) -> None:
        try:
            request.settimeout(10)
            tls = self.owner.ssl_ctx.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except OSError:
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class HostileServer:
    """An HTTPS server on 127.0.0.1 (certificate for 127.0.0.1, CA at `ca_path`) with one behaviour."""

    def __init__(self, behaviour: Behaviour, lifetime: float = 120.0, tls_dir: Optional[str] = None) -> None:
        self.behaviour = behaviour
        self.lifetime = lifetime
        self.requests: List[dict] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self._tmp = None if tls_dir else tempfile.TemporaryDirectory(prefix="hostile-jira-")
        directory = tls_dir or self._tmp.name
        self.ca_path, chain, key = make_tls(directory)
        self.ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_ctx.load_cert_chain(chain, key)
        self._server = _Server(("127.0.0.1", 0), HostileHandler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def config(self, **extra: Any) -> dict:
        return {"domain": self.domain, "credentials": {"auth_type": "api_token", "email": "hostile@example.com", "api_token": "tok-Hostile-0987654321"}, **extra}

    def paths(self) -> List[str]:
        with self.lock:
            return [r["path"] for r in self.requests]

    def start(self) -> "HostileServer":
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
