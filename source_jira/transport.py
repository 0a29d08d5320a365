"""The HTTP transport under every request: timeouts, a total deadline per response, no redirect to another origin, no
connection to link-local or cloud-metadata addresses, and an immediate retry when the server closed an idle pooled
connection. Python because the CDK's requester can set connect/read timeouts but none of the rest, and these are
properties of the connection (urllib3/requests), not of any stream.

Mounted on each requester's session by `source_jira.cdk_adapter.mount_transport` (README, "Errors and retries").
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urljoin, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError as Urllib3SSLError
from urllib3.util.retry import Retry

DEFAULT_REQUEST_TIMEOUT = 60.0  # seconds of silence on an open connection before a read is given up
CONNECT_TIMEOUT_CAP = 10.0
DEADLINE_FACTOR = 5  # a whole response (headers and body) must arrive within this many read timeouts
STALE_RETRIES = 3  # immediate retries when a pooled connection turns out to be closed by the server

# Where no Jira lives and a hosted Airbyte must never connect: link-local (cloud metadata services answer on
# 169.254.169.254 and fd00:ec2::254), unspecified and multicast addresses. Loopback and private ranges stay allowed:
# self-hosted Jira lives there, and the tests use 127.0.0.1.
_REFUSED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32", "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8",
))
_REFUSED_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"})


def trust_context(ca_pem: Optional[str], bundle: Optional[str] = None) -> ssl.SSLContext:
    """A verifying TLS context: `bundle` (a file or directory; default: certifi's, as requests uses) plus `ca_pem`."""
    if bundle is None:
        import certifi

        bundle = certifi.where()
    context = ssl.create_default_context(capath=bundle) if os.path.isdir(bundle) else ssl.create_default_context(cafile=bundle)
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    return context


class AddressRefused(requests.exceptions.InvalidURL):
    """The host is (or resolves to) an address this connector never connects to."""


class RedirectRefused(requests.exceptions.TooManyRedirects):
    """Jira's answer redirected to another origin (scheme, host or port)."""


class ResponseDeadline(requests.exceptions.ReadTimeout):
    """The response did not arrive in full within its total deadline (a trickling or stalled host)."""


class _GuardError(Exception):
    """Raised inside urllib3 (not an OSError, so urllib3 does not wrap or retry it); turned into AddressRefused."""


def refused_address(address: str) -> Optional[str]:
    """Why this IP literal is refused, or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    for network in _REFUSED_NETWORKS:
        if ip.version == network.version and ip in network:
            kind = "a link-local or cloud-metadata address" if ip.is_link_local or str(network) in ("fd00:ec2::254/128", "100.100.100.200/32") else "not a host address"
            return f"{ip} is {kind}"
    return None


def refused_host(host: str) -> Optional[str]:
    """Why this host name or literal is refused before any look-up, or None."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in _REFUSED_NAMES:
        return f"{name} is a cloud-metadata host name"
    return refused_address(name)


def vetted_address(host: str, port: int) -> str:
    """The address to connect to: the host's resolved addresses, all of them checked (DNS may hand out a metadata
    address for any name); connecting to the checked address leaves no second look-up to be answered otherwise."""
    why = refused_host(host)
    if why:
        raise _GuardError(why)
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        why = refused_address(address)
        if why:
            raise _GuardError(f"{host} resolves to {why}")
    return addresses[0] if addresses else host


def guard_message(host: str, why: str) -> str:
    return (f"Refused to connect to '{host}': {why}. This connector never connects to link-local or cloud-metadata "
            "addresses; give the Jira site's own host name.")


class _GuardedConnectionMixin:
    def _new_conn(self) -> socket.socket:  # type: ignore[override]
        try:
            address = vetted_address(self.host, self.port)  # type: ignore[attr-defined]
        except socket.gaierror:
            return super()._new_conn()  # type: ignore[misc]  # urllib3 reports the failed look-up as it always does
        original = self._dns_host  # type: ignore[attr-defined]
        self._dns_host = address  # type: ignore[attr-defined]  # the TLS handshake still checks the host name
        try:
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = original  # type: ignore[attr-defined]


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


_STALE_CAUSES = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def _is_stale(error: BaseException) -> bool:
    seen = 0
    current: Optional[BaseException] = error
    while current is not None and seen < 5:
        if isinstance(current, _STALE_CAUSES):
            return True
        for arg in getattr(current, "args", ()):
            if isinstance(arg, _STALE_CAUSES):
                return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


class StaleConnectionRetry(Retry):
    """Retry at once, on a fresh connection, only when the server closed the connection before answering (a
    keep-alive connection it dropped while idle in the pool): that is no server fault to back off from. Everything
    else goes up unchanged to the shared retry policy (reliability.py), which backs off."""

    def increment(self, method: Optional[str] = None, url: Optional[str] = None, response: Any = None,
                  error: Optional[Exception] = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        if error is not None and response is None and isinstance(error, (ProtocolError, ReadTimeoutError)) and not _is_stale(error):
            raise error
        return super().increment(method=method, url=url, response=response, error=error, _pool=_pool, _stacktrace=_stacktrace)


def stale_connection_retry() -> Retry:
    return StaleConnectionRetry(total=STALE_RETRIES, connect=0, read=STALE_RETRIES, status=0, other=0, redirect=None,
                                allowed_methods=None, raise_on_status=False, respect_retry_after_header=False)


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    total: float

    @classmethod
    def from_config(cls, config: Any, check: bool = False) -> "Timeouts":
        try:
            read = float((config or {}).get("request_timeout_seconds") or DEFAULT_REQUEST_TIMEOUT)
        except (TypeError, ValueError):
            read = DEFAULT_REQUEST_TIMEOUT
        read = max(1.0, read)
        if check:  # `check` answers within seconds on a stalled host
            read = min(read, 10.0)
        return cls(connect=min(CONNECT_TIMEOUT_CAP, read), read=read, total=read * DEADLINE_FACTOR)


def _origin(url: str) -> Tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class StreamedResponse(requests.Response):
    """A response whose body the caller reads (`stream=True`). requests raises the errors of that read (a body cut
    short: ChunkedEncodingError) without the request; here they carry it, as the errors of `_read_body` do, so a
    retry line names the endpoint."""

    def iter_content(self, chunk_size: Optional[int] = 1, decode_unicode: bool = False) -> Iterator[Any]:
        return _naming_request(super().iter_content(chunk_size, decode_unicode), self.request)


def _naming_request(chunks: Iterator[Any], request: Optional[requests.PreparedRequest]) -> Iterator[Any]:
    try:
        yield from chunks
    except requests.exceptions.RequestException as exc:
        if exc.request is None:
            exc.request = request
        raise


# Connections the read's one pool keeps per host: every thread of a read may hold one at once (up to 32 CDK workers,
# 32 per-issue threads and 6 prefetch threads with `adaptive_concurrency: false`); beyond the pool's size urllib3
# opens extra connections, closes them after one use and logs a warning for each.
SHARED_POOL_SIZE = 96


class ResponseMemo:
    """One read's answers to the GET requests of parent streams (a SubstreamPartitionRouter's parent, e.g. `projects`
    for the five project child streams): each URL is fetched once per read and every other reader of it gets a copy.
    The CDK builds a parent stream again inside each child stream and reads it again; its own cache for that
    (requests_cache) stores a corrupt 200 before the error handler sees it and replays it to every retry, and lets
    readers that start together all fetch. Here:
    * only a 200 whose body is well-formed JSON is kept, so a corrupt or cut answer is never replayed;
    * a retry (the CDK sends the same prepared request again) always goes to Jira, and its answer replaces the kept one;
    * a reader that asks while the same URL is being fetched waits for that answer (at most `wait` seconds) instead of
      fetching it too; if that fetch fails, it fetches on its own.
    Held by SharedConnections (one per read), emptied when the read ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: Dict[str, Tuple[int, Any, bytes, Optional[str], Optional[str]]] = {}
        self._fetching: Dict[str, threading.Event] = {}
        self._sent: "weakref.WeakSet[requests.PreparedRequest]" = weakref.WeakSet()

    def send(self, request: requests.PreparedRequest, fetch: Callable[[], requests.Response], wait: float) -> requests.Response:
        url = request.url or ""
        if request.method != "GET" or not url:
            return fetch()
        with self._lock:
            retry = request in self._sent
            self._sent.add(request)
        waited = False
        while not retry:
            with self._lock:
                kept = self._kept.get(url)
                if kept is not None:
                    return self._copy(kept, request)
                event = self._fetching.get(url)
                if event is None or waited:
                    self._fetching.setdefault(url, threading.Event())
                    break
            waited = True
            event.wait(wait)
        try:
            response = fetch()
            if response.status_code == 200 and response._content_consumed and self._well_formed(response.content):  # noqa: SLF001
                with self._lock:
                    self._kept[url] = (response.status_code, response.headers.copy(), response.content, response.reason, response.encoding)
            return response
        finally:
            with self._lock:
                event = self._fetching.pop(url, None)
            if event is not None:
                event.set()

    @staticmethod
    def _well_formed(body: bytes) -> bool:
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        return True

    @staticmethod
    def _copy(kept: Tuple[int, Any, bytes, Optional[str], Optional[str]], request: requests.PreparedRequest) -> requests.Response:
        status, headers, body, reason, encoding = kept
        response = requests.Response()
        response.status_code, response.headers, response.reason, response.encoding = status, headers.copy(), reason, encoding
        response._content, response._content_consumed = body, True  # noqa: SLF001
        response.url, response.request, response.elapsed = request.url or "", request, timedelta(0)
        return response

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


class SharedConnections:
    """One read's connections: a single urllib3 pool manager (and trust context per CA setting) behind every
    requester's adapter. The CDK gives each requester a session of its own, so without this a connection opened by
    one stream never serves another: a catalog read opened a few hundred TLS connections (handshakes on both sides,
    a CA bundle loaded for each) where its ceiling of requests in flight needs a few dozen. Also the read's
    ResponseMemo of parent streams' answers. Owned by cdk_adapter.TransportSettings (one per source, so per read);
    `close` at the read's end."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.manager: Any = None
        self.contexts: Dict[Any, ssl.SSLContext] = {}
        self.responses = ResponseMemo()

    def close(self) -> None:
        with self.lock:
            manager, self.manager = self.manager, None
        self.responses.clear()
        if manager is not None:
            manager.clear()


class GuardedAdapter(HTTPAdapter):
    """requests' adapter with the guards of this module."""

    def __init__(self, timeouts: Timeouts, pool_maxsize: int = 50, ca_pem: Optional[str] = None, limiter: Any = None,
                 shared: Optional[SharedConnections] = None, memo: Optional[ResponseMemo] = None) -> None:
        self.timeouts = timeouts
        self.memo = memo  # a parent stream's requester: its GET answers are shared within the read (ResponseMemo)
        self.limiter = limiter  # the read's shared budget (limiter.AdaptiveLimiter), None: requests are not held
        self.ca_pem = ca_pem  # the config's `ca_certificate`: trusted on top of the usual authorities
        self.shared = shared  # the read's connections, None: this adapter's own pools
        if shared is not None:
            pool_maxsize = max(pool_maxsize, SHARED_POOL_SIZE)
        self._contexts: Dict[Any, ssl.SSLContext] = shared.contexts if shared is not None else {}
        self._pool_keys: dict = {}  # (scheme, host, port, verify, cert) -> what build_connection_pool_key_attributes gives
        self._ca_kinds: dict = {}  # CA bundle path -> "file" or "dir"
        super().__init__(pool_connections=pool_maxsize, pool_maxsize=pool_maxsize, max_retries=stale_connection_retry())

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: Any, cert: Any = None) -> Any:
        """With a `ca_certificate`, connections verify against an SSL context of this adapter's own (the usual
        bundle plus that certificate): the shared default context is never modified. Verification stays on.
        Worked out once per origin, CA bundle and client certificate (requests stats the bundle on every request)."""
        url = urlsplit(request.url or "")
        key = (url.scheme.lower(), url.hostname, url.port, verify if isinstance(verify, (str, bool)) else repr(verify),
               cert if isinstance(cert, (str, type(None))) else repr(cert))
        known = self._pool_keys.get(key)
        if known is None:
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
            if self.ca_pem and verify is not False:
                pool_kwargs.pop("ca_certs", None)
                pool_kwargs.pop("ca_cert_dir", None)
                pool_kwargs["ssl_context"] = self._context(verify)
            known = self._pool_keys.setdefault(key, (host_params, pool_kwargs))
        return dict(known[0]), dict(known[1])

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """requests' own, with its two stat calls of the CA bundle (a few % of a read's CPU) made once per path."""
        if cert or not (url.lower().startswith("https") and verify):
            return super().cert_verify(conn, url, verify, cert)
        location = verify if isinstance(verify, str) else requests.adapters.DEFAULT_CA_BUNDLE_PATH
        kind = self._ca_kinds.get(location)
        if kind is None:
            kind = "dir" if location and os.path.isdir(location) else "file" if location and os.path.exists(location) else ""
            if kind:
                self._ca_kinds[location] = kind
        if not kind:
            return super().cert_verify(conn, url, verify, cert)  # its own error, naming the path
        conn.cert_reqs = "CERT_REQUIRED"
        if kind == "dir":
            conn.ca_cert_dir = location
        else:
            conn.ca_certs = location

    def _context(self, verify: Any) -> ssl.SSLContext:
        key = (verify if isinstance(verify, str) else True, self.ca_pem)
        context = self._contexts.get(key)
        if context is None:
            context = self._contexts.setdefault(key, trust_context(self.ca_pem, verify if isinstance(verify, str) else None))
        return context

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        shared = getattr(self, "shared", None)
        if shared is not None:
            with shared.lock:
                if shared.manager is not None:
                    self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
                    self.poolmanager = shared.manager
                    return
                self._own_poolmanager(connections, maxsize, block, **pool_kwargs)
                shared.manager = self.poolmanager
                return
        self._own_poolmanager(connections, maxsize, block, **pool_kwargs)

    def _own_poolmanager(self, connections: int, maxsize: int, block: bool, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}

    def close(self) -> None:
        """A session closing (a stream done) leaves the read's shared connections to the others."""
        if self.shared is None:
            return super().close()
        for proxy in self.proxy_manager.values():
            proxy.clear()

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, verify: Any = True,
             cert: Any = None, proxies: Any = None) -> requests.Response:
        host = urlsplit(request.url or "").hostname or ""
        why = refused_host(host)
        if why:
            raise AddressRefused(guard_message(host, why), request=request)
        if timeout is None:
            timeout = (self.timeouts.connect, self.timeouts.read)
        if self.memo is not None and not stream:
            return self.memo.send(request, lambda: self._budgeted(request, host, stream, timeout, verify, cert, proxies), self.timeouts.total)
        return self._budgeted(request, host, stream, timeout, verify, cert, proxies)

    def _budgeted(self, request: requests.PreparedRequest, host: str, stream: bool, timeout: Any, verify: Any, cert: Any,
                  proxies: Any) -> requests.Response:
        limiter = self.limiter
        ticket = limiter.acquire() if limiter is not None else None  # a place in the read's shared budget
        try:
            response = self._send(request, host, stream, timeout, verify, cert, proxies)
        except BaseException as exc:
            if limiter is not None:
                limiter.release(ticket, error=exc)
            raise
        if limiter is not None:  # given back once the body is read (a streamed body: once the headers are)
            limiter.release(ticket, response.status_code, response.headers)
        return response

    def _send(self, request: requests.PreparedRequest, host: str, stream: bool, timeout: Any, verify: Any, cert: Any,
              proxies: Any) -> requests.Response:
        started = time.monotonic()
        try:
            response = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        except _GuardError as exc:
            raise AddressRefused(guard_message(host, str(exc)), request=request) from None
        if response.is_redirect:
            self._refuse_cross_origin(request, response)
        if stream:  # the caller reads the body: its errors name the request all the same
            response.__class__ = StreamedResponse
        else:
            self._read_body(response, started)
        return response

    @staticmethod
    def _refuse_cross_origin(request: requests.PreparedRequest, response: requests.Response) -> None:
        target = urljoin(request.url or "", response.headers.get("Location", ""))
        if _origin(target) != _origin(request.url or ""):
            response.close()
            parts = urlsplit(target)
            where = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
            raise RedirectRefused(
                f"{request.method} {urlsplit(request.url or '').path}: Jira answered HTTP {response.status_code} redirecting to "
                f"another origin ({where}); refused (credentials never follow a redirect). Check the site domain, or a "
                "proxy in between.",
                request=request, response=response,
            )

    def _read_body(self, response: requests.Response, started: float) -> None:
        """Read the whole body, as requests would, but give up once the response's total deadline has passed: a read
        timeout alone never fires on a host that trickles a byte every few seconds."""
        deadline = started + self.timeouts.total
        chunks: List[bytes] = []
        raw = response.raw
        try:
            while True:
                if time.monotonic() > deadline:
                    raise ResponseDeadline(
                        f"no complete answer within {self.timeouts.total:.0f} s (the host sends too slowly or stalls)",
                        request=response.request, response=response,
                    )
                chunk = raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
        except ProtocolError as exc:
            response.close()
            raise requests.exceptions.ChunkedEncodingError(exc, request=response.request) from None
        except DecodeError as exc:
            response.close()
            raise requests.exceptions.ContentDecodingError(exc, request=response.request) from None
        except ReadTimeoutError:
            response.close()
            raise requests.exceptions.ReadTimeout(f"Read timed out in the body. (read timeout={self.timeouts.read:g})", request=response.request) from None
        except Urllib3SSLError as exc:
            response.close()
            raise requests.exceptions.SSLError(exc, request=response.request) from None
        except ResponseDeadline:
            response.close()
            raise
        # requests' own attributes for a body already read (Response.content reads them)
        response._content = b"".join(chunks)  # noqa: SLF001
        response._content_consumed = True  # noqa: SLF001
        raw.release_conn()
