"""HTTPS transport: TLS material, the threaded HTTP/1.1 server, auth, faults and request counting."""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import json
import math
import os
import random
import socket
import ssl
import struct
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import api

try:  # orjson is ~5x faster; fall back to the stdlib
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover
    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


UNAUTHORIZED = {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}}
UNAUTHORIZED_DC = {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."], "errors": {}}
# What the servlet container answers outside the Data Center context path (Jira's REST layer never sees it)
HTML_404 = (b"<!doctype html><html lang=\"en\"><head><title>HTTP Status 404 \xe2\x80\x93 Not Found</title></head>"
            b"<body><h1>HTTP Status 404 \xe2\x80\x93 Not Found</h1></body></html>")
FORBIDDEN = {"errorMessages": ["You are not authorized to perform this operation. Please contact your Jira administrators."], "errors": {}}
NOT_FOUND = {"errorMessages": ["null for uri: {uri}"], "errors": {}}
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
HTML_504 = b"<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>"


# --------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------
def make_tls(directory: str) -> tuple[str, str, str]:
    """Creates a throwaway CA and a server certificate for 127.0.0.1/localhost.

    Returns (ca_path, cert_chain_path, key_path). Clients trust ``ca_path``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-jira test CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fake-jira")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_path = os.path.join(directory, "ca.pem")
    chain_path = os.path.join(directory, "server-chain.pem")
    key_path = os.path.join(directory, "server-key.pem")
    with open(ca_path, "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(chain_path, "wb") as f:
        f.write(cert.public_bytes(pem) + ca.public_bytes(pem))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path, chain_path, key_path


# --------------------------------------------------------------------------------------------
# faults
# --------------------------------------------------------------------------------------------
@dataclass
class Faults:
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_reset: float = 0.0
    rate_truncated: float = 0.0
    rate_corrupt_json: float = 0.0
    latency_ms: int = 0
    retry_after: int = 1
    seed: int = 0
    paths: list | None = None
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        if isinstance(self.paths, str):
            self.paths = [self.paths]

    def applies(self, method: str, template: str | None, path: str) -> bool:
        if not self.paths:
            return True
        for p in self.paths:
            if p in (template, f"{method} {template}") or path.startswith(p) or (template or "").startswith(p):
                return True
        return False

    def decide(self, method: str, template: str | None, path: str) -> tuple[str | None, int, float]:
        """Returns (kind, status, variant-random) — kind in 429/5xx/reset/truncated/corrupt_json."""
        total = self.rate_429 + self.rate_5xx + self.rate_reset + self.rate_truncated + self.rate_corrupt_json
        if total <= 0 or not self.applies(method, template, path):
            return None, 0, 0.0
        with self.lock:
            r = self.rng.random()
            variant = self.rng.random()
        acc = 0.0
        for kind, rate in (("429", self.rate_429), ("5xx", self.rate_5xx), ("reset", self.rate_reset),
                           ("truncated", self.rate_truncated), ("corrupt_json", self.rate_corrupt_json)):
            acc += rate
            if r < acc:
                status = 0
                if kind == "429":
                    status = 429
                elif kind == "5xx":
                    status = (500, 502, 503, 504)[int(variant * 4) % 4]
                return kind, status, variant
        return None, 0, 0.0


class TokenBucket:
    """Jira Cloud's burst rate limit as a token bucket: ``rate`` tokens a second, at most ``burst`` saved up; every
    API request takes one, and one that finds none is refused with a 429 (``RateLimit-Reason: jira-burst-based``,
    ``Retry-After`` in whole seconds as Jira sends it, ``X-RateLimit-Reset``). Answers carry ``X-RateLimit-Limit``
    (the burst) and ``X-RateLimit-Remaining``, and ``X-RateLimit-NearLimit: true`` when less than 20 % of the
    bucket remains (Atlassian's definition). One bucket for the site, or one per endpoint (method and template)
    with ``per_endpoint`` (Jira's burst limits are per endpoint and method)."""

    def __init__(self, rate: float, burst: float, per_endpoint: bool = False) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self.per_endpoint = float(rate), float(burst), bool(per_endpoint)
        self._buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, int, float]:
        """(allowed, tokens left, seconds until the next token)."""
        k = key if self.per_endpoint else "*"
        with self.lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(k, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[k] = (tokens - 1.0, now)
                return True, int(tokens - 1.0), 0.0
            self._buckets[k] = (tokens, now)
            return False, 0, (1.0 - tokens) / self.rate

    def headers(self, remaining: int) -> dict:
        h = {"X-RateLimit-Limit": str(int(self.burst)), "X-RateLimit-Remaining": str(remaining)}
        if remaining < 0.2 * self.burst:
            h["X-RateLimit-NearLimit"] = "true"
        return h


# --------------------------------------------------------------------------------------------
# server
# --------------------------------------------------------------------------------------------
class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, addr, fake, ssl_ctx: ssl.SSLContext) -> None:
        self.fake = fake
        self.ssl_ctx = ssl_ctx
        self.open_sockets: set = set()
        self.sock_lock = threading.Lock()
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address) -> None:
        # TLS handshake runs in the worker thread, not in the accept loop
        try:
            request.settimeout(30)
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (OSError, ssl.SSLError):
            return
        with self.sock_lock:
            self.open_sockets.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            with self.sock_lock:
                self.open_sockets.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:  # quiet
        pass

    def close_all(self) -> None:
        with self.sock_lock:
            socks = list(self.open_sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-jira"
    sys_version = ""
    timeout = 120

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ssl.SSLError, ValueError):
            self.close_connection = True

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    # ------------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, headers: dict | None = None,
              content_type: str = "application/json;charset=UTF-8", declared_len: int | None = None) -> None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        h = [f"HTTP/1.1 {status} {reason}", f"Date: {self.date_time_string()}",
             "Server: fake-jira", f"Content-Type: {content_type}",
             f"Content-Length: {len(body) if declared_len is None else declared_len}",
             f"X-AREQUESTID: {id(self) % 100000}x{int(time.time()) % 100000}",
             "X-Content-Type-Options: nosniff", "Cache-Control: no-cache, no-store, no-transform"]
        for k, v in (headers or {}).items():
            h.append(f"{k}: {v}")
        if self.close_connection:
            h.append("Connection: close")
        data = ("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + body
        self.wfile.write(data)

    def _json(self, status: int, obj: Any, headers: dict | None = None) -> None:
        self._send(status, dumps(obj), headers)

    def _abort(self, linger_zero: bool) -> None:
        self.close_connection = True
        sock = self.connection
        try:
            if linger_zero:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            # close the raw fd under the TLS layer: no close_notify, the peer sees a cut connection
            os.close(sock.detach())
        except OSError:
            pass

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        path = unquote(url.path)
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        if self.headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        if path.startswith("/_fake/") or path == "/_fake":
            return self._control(method, path, url.query, raw)
        if fake.deployment == "datacenter":
            # Data Center: Jira lives under its context path (``/jira``); the control plane also answers there
            cp = fake.context_path
            if cp and (path == cp + "/_fake" or path.startswith(cp + "/_fake/")):
                return self._control(method, path[len(cp):], url.query, raw)
            if cp and path != cp and not path.startswith(cp + "/"):
                fake._note_total()
                fake._note_request(f"{method} {path} (outside {cp})")
                return self._send(404, HTML_404, content_type="text/html;charset=utf-8")
            path = path[len(cp):] or "/"
            fake._note_total()
            m = api.match_dc(method, path)
        else:
            if path == "/oauth/token" and method == "POST":
                return self._oauth_token(fake, raw)
            if path.startswith("/ex/jira/"):
                parts = path.split("/", 4)
                path = "/" + parts[4] if len(parts) > 4 else "/"
            fake._note_total()
            m = api.match(method, path)
        template = m[1] if m else None
        key = f"{method} {template or path}"
        fake._note_in_flight(key, 1)  # from here until the answer is sent, latency included
        try:
            return self._serve(fake, method, path, url, raw, m, template, key)
        finally:
            fake._note_in_flight(key, -1)

    def _serve(self, fake, method: str, path: str, url, raw: bytes, m, template: str | None, key: str) -> None:
        bucket, limit_headers = fake.rate_limit, None
        if bucket is not None:
            allowed, remaining, wait = bucket.take(key)
            if not allowed:
                lat = fake.latency_ms + fake.faults.latency_ms
                if lat:
                    time.sleep(lat / 1000.0)
                fake._note_fault("rate_limited", key)
                ra = max(1, math.ceil(wait))
                reset = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=ra)
                return self._json(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, {
                    "Retry-After": str(ra), "X-RateLimit-Limit": str(int(bucket.burst)), "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"), "X-RateLimit-NearLimit": "true",
                    "RateLimit-Reason": "jira-burst-based"})
            limit_headers = bucket.headers(remaining)
        kind, status, variant = fake.faults.decide(method, template, path)
        lat = fake.latency_ms + fake.faults.latency_ms
        if lat:
            time.sleep(lat / 1000.0)
        if kind == "reset":
            fake._note_fault(kind, key)
            return self._abort(linger_zero=True)
        if kind == "429":
            fake._note_fault(kind, key)
            ra = fake.faults.retry_after
            reset = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=ra)
            return self._json(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, {
                "Retry-After": str(ra), "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"), "X-RateLimit-NearLimit": "true",
                "RateLimit-Reason": "jira-burst-based"})
        if kind == "5xx":
            fake._note_fault(str(status), key)
            if status == 502:
                return self._send(502, HTML_502, content_type="text/html")
            if status == 504:
                return self._send(504, HTML_504, content_type="text/html")
            headers = {"Retry-After": str(fake.faults.retry_after)} if status == 503 else None
            msg = "Service Unavailable" if status == 503 else "Internal server error"
            return self._json(status, {"errorMessages": [msg], "errors": {}}, headers)
        status_code, body, headers = self._dispatch(fake, method, path, url.query, raw, m)
        if limit_headers:
            headers = {**limit_headers, **(headers or {})}
        data = body if isinstance(body, bytes) else dumps(body)
        if kind == "truncated":
            fake._note_fault(kind, key)
            self.close_connection = True
            try:
                cut = max(1, len(data) // 2)
                self._send(status_code, data[:cut], headers, declared_len=len(data))
            except OSError:
                pass
            return self._abort(linger_zero=False)
        if kind == "corrupt_json":
            fake._note_fault(kind, key)
            if variant < 0.5 or len(data) < 16:
                data = data[: max(1, len(data) // 2)]
            else:
                data = b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + data[8:]
            return self._send(status_code, data, headers)
        fake._note_request(key)
        self._send(status_code, data, headers)

    def _dispatch(self, fake, method: str, path: str, query: str, raw: bytes, m) -> tuple[int, Any, dict | None]:
        dc = fake.deployment == "datacenter"
        auth = self.headers.get("Authorization")
        if dc and not auth and m is not None and m[1] == api.API2 + "/serverInfo":
            pass  # Data Center answers serverInfo anonymously (wrong credentials are still a 401)
        elif dc and not fake._authenticated(auth):
            return 401, UNAUTHORIZED_DC, {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED" if auth else "OUT",
                                          "X-AUSERNAME": "anonymous"}
        elif not dc and not fake._authenticated(auth):
            return 401, UNAUTHORIZED, {"WWW-Authenticate": 'OAuth realm="https%3A%2F%2Fapi.atlassian.com"',
                                       "X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
        if m is None:
            if (api.known_path_dc(path) if dc else api.known_path(path)):
                return 405, {"errorMessages": [f"Method {method} is not allowed."], "errors": {}}, None
            return 404, {"errorMessages": [f"null for uri: {fake.base_url}{path}"], "errors": {}}, None
        fn, template, params = m
        if fake._is_forbidden(template, path):
            return 403, FORBIDDEN, None
        if fake._is_missing(template, path):
            return 404, {"errorMessages": [f"null for uri: {fake.base_url}{path}"], "errors": {}}, None
        body = None
        if raw and method in ("POST", "PUT") and "application/json" not in (self.headers.get("Content-Type") or "").lower():
            # Jira's REST resources consume JSON only: another media type is a 415 (a form type also fails XSRF)
            if "form" in (self.headers.get("Content-Type") or "").lower():
                return 403, b"XSRF check failed", None
            return 415, b"", None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {"errorMessages": ["Unexpected character: was expecting a JSON value."], "errors": {}}, None
        req = api.Req(method, path, parse_qs(query, keep_blank_values=True), body, fake.site, self.headers)
        req.params = params
        req.template = template
        try:
            out = fn(req)
        except api.HttpError as e:
            return e.status, e.body, None
        except Exception as e:  # a bug in the fake: answer like Jira would (500), keep serving
            fake._note_internal_error(f"{method} {path}?{query}", traceback.format_exc())
            return 500, {"errorMessages": [f"Internal server error: {type(e).__name__}: {e}"], "errors": {}}, None
        return 200, out, None

    def _oauth_token(self, fake, raw: bytes) -> None:
        """``auth.atlassian.com/oauth/token`` (refresh_token grant, rotating refresh tokens)."""
        ctype = self.headers.get("Content-Type", "")
        try:
            if "json" in ctype:
                form = json.loads(raw or b"{}")
            else:
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        except ValueError:
            form = {}
        fake._note_total()
        fake._note_request("POST /oauth/token")
        status, body = fake._oauth_refresh(form)
        self._json(status, body)

    # ------------------------------------------------------------------------------------------
    def _control(self, method: str, path: str, query: str, raw: bytes) -> None:
        fake = self.server.fake
        name = path[len("/_fake/"):].strip("/") if path.startswith("/_fake/") else ""
        kwargs: dict[str, Any] = {}
        if raw:
            try:
                kwargs = json.loads(raw) or {}
            except ValueError:
                return self._json(400, {"error": "body must be JSON"})
        for k, v in parse_qs(query, keep_blank_values=True).items():
            val: Any = v if len(v) > 1 else v[0]
            if k in ("projects", "ids", "paths") and isinstance(val, str):
                val = [x for x in val.split(",") if x]
            elif isinstance(val, str) and val.lstrip("-").isdigit():
                val = int(val)
            elif isinstance(val, str):
                try:
                    val = float(val)
                except ValueError:
                    pass
            kwargs[k] = val
        try:
            result = fake.control(name, kwargs)
        except KeyError as e:
            return self._json(404, {"error": str(e)})
        except (TypeError, ValueError) as e:
            return self._json(400, {"error": str(e)})
        self._json(200, {"result": result})


def encode_basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


def new_tempdir() -> str:
    return tempfile.mkdtemp(prefix="fake-jira-")


__all__ = ["FakeServer", "Faults", "TokenBucket", "make_tls", "encode_basic", "new_tempdir"]
