"""The transport's address guard with a stubbed resolver and socket: a name that resolves to a metadata address is
refused before any connection is made (no packet can leave: the socket layer is replaced and must not be called)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import time

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from source_jira import transport
from source_jira.source import preflight, split_host_port


@pytest.fixture
def resolver(monkeypatch):
    """getaddrinfo answers from a table; any real connection attempt fails the test."""
    table = {}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]

    def no_connection(*args, **kwargs):
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", no_connection)
    monkeypatch.setattr(socket.socket, "connect", no_connection)
    return table


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "fe80::1", "::ffff:169.254.169.254", "100.100.100.200"])
def test_a_name_resolving_to_a_metadata_address_is_refused_before_connecting(resolver, address):
    resolver["jira.example.com"] = address
    session = requests.Session()
    session.mount("https://", transport.GuardedAdapter(transport.Timeouts(1, 1, 5)))
    with pytest.raises(transport.AddressRefused, match="Refused to connect to 'jira.example.com': jira.example.com resolves to"):
        session.get("https://jira.example.com/rest/api/3/myself")
    with pytest.raises(AirbyteTracedException, match="Refused to connect"):
        preflight("jira.example.com")


def test_private_and_loopback_addresses_stay_allowed():
    for address in ("127.0.0.1", "::1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "fd12::1"):
        assert transport.refused_address(address) is None, address
    assert transport.refused_host("metadata.google.internal.")
    assert transport.refused_host("[fe80::1]")


def test_ipv6_literals_are_parsed_as_addresses():
    assert split_host_port("[::1]:9") == ("::1", 9)
    assert split_host_port("[fd00:ec2::254]") == ("fd00:ec2::254", 443)
    assert split_host_port("jira.corp.example:8443") == ("jira.corp.example", 8443)
    assert split_host_port("acme.atlassian.net") == ("acme.atlassian.net", 443)


def test_only_a_connection_closed_before_answering_is_retried_at_once():
    retry = transport.stale_connection_retry()
    stale = ProtocolError("Connection aborted.", http.client.RemoteDisconnected("Remote end closed connection without response"))
    assert retry.increment(method="POST", url="/x", error=stale).total == transport.STALE_RETRIES - 1
    with pytest.raises(ReadTimeoutError):  # a slow server is the shared policy's business (backoff), not retried here
        retry.increment(method="GET", url="/x", error=ReadTimeoutError(None, "/x", "Read timed out."))


def test_timeouts_come_from_the_config_and_check_waits_at_most_10_s():
    assert transport.Timeouts.from_config({}) == transport.Timeouts(10.0, 60.0, 300.0)
    assert transport.Timeouts.from_config({"request_timeout_seconds": 2}) == transport.Timeouts(2.0, 2.0, 10.0)
    assert transport.Timeouts.from_config({"request_timeout_seconds": 120}, check=True).read == 10.0


def test_every_requester_of_every_stream_has_the_transport_parents_included():
    """Parent streams are built by a second factory inside the CDK: their requesters must be guarded too."""
    from source_jira import SourceJira, cdk_adapter

    source = SourceJira(config={"domain": "acme.atlassian.net", "credentials": {"auth_type": "api_token", "email": "e", "api_token": "t"}})
    streams = cdk_adapter.streams_by_name(source, source.stream_names())
    requesters = [r for stream in streams for r in cdk_adapter.requesters_in(stream)]
    assert len({r.name for r in requesters}) >= 60
    unguarded = sorted({r.name for r in requesters if not isinstance(r._http_client._session.get_adapter("https://x"), transport.GuardedAdapter)})
    assert not unguarded, f"requesters without the transport: {unguarded}"


@pytest.fixture
def cut_body_server():
    """A local HTTP server whose answers promise 100 bytes, send 10 and close the connection."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(5)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"issues\":")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    thread.join(5)


@pytest.mark.parametrize("stream", [False, True])
def test_a_body_cut_short_names_its_request(cut_body_server, stream):
    """requests leaves the request out of ChunkedEncodingError; the transport puts it in, whoever reads the body, so
    the retry line names the endpoint."""
    from source_jira.components.reliability import retry_reason

    session = requests.Session()
    session.mount("http://", transport.GuardedAdapter(transport.Timeouts(5, 5, 25)))
    url = f"{cut_body_server}/rest/api/3/search/jql?jql=x"
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as caught:
        session.get(url, stream=stream).content
    assert caught.value.request is not None and caught.value.request.url == url
    reason = retry_reason(caught.value)
    assert reason.startswith(f"GET {cut_body_server}/rest/api/3/search/jql: the connection broke mid-response (body cut short: "), reason


@contextlib.contextmanager
def _json_server(answer, accepted=None):
    """A local HTTP/1.1 server on 127.0.0.1 that keeps connections open: every GET is answered 200 with the JSON body
    `answer(path)` gives; `accepted` (a list) collects the connections it accepted."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            if accepted is not None:
                accepted.append(self.client_address)
            super().setup()

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = answer(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128  # up to 70 senders connect at once (the default backlog of 5 would make them wait)

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def keep_alive_server():
    """Answers `{}` (after 0.3 s on a `slow` path: answers that overlap, every sender holds its connection at once)
    and counts the connections it accepted."""
    accepted = []

    def answer(path: str) -> bytes:
        if "slow" in path:
            time.sleep(0.3)
        return b"{}"

    with _json_server(answer, accepted) as url:
        yield url, accepted


@pytest.mark.parametrize("shared", [True, False])
def test_the_sessions_of_one_read_share_their_connections(keep_alive_server, shared):
    """Each requester has a session of its own; with the read's SharedConnections a connection one of them opened
    serves the next request of another, and a session closing (its stream done) leaves it to the others."""
    url, accepted = keep_alive_server
    connections = transport.SharedConnections() if shared else None
    sessions = []
    for _ in range(3):
        session = requests.Session()
        session.mount("http://", transport.GuardedAdapter(transport.Timeouts(5, 5, 25), shared=connections))
        sessions.append(session)
    for session in sessions:
        assert session.get(f"{url}/rest/api/3/myself").status_code == 200
    sessions[0].close()
    assert sessions[1].get(f"{url}/rest/api/3/myself").status_code == 200
    assert len(accepted) == (1 if shared else 3)
    if shared:
        connections.close()
        assert sessions[2].get(f"{url}/rest/api/3/myself").status_code == 200  # a new connection, still guarded
        assert len(accepted) == 2


def test_every_requester_of_a_source_uses_the_source_s_one_pool_manager():
    from source_jira import SourceJira, cdk_adapter

    source = SourceJira(config={"domain": "acme.atlassian.net", "credentials": {"auth_type": "api_token", "email": "e", "api_token": "t"}})
    streams = cdk_adapter.streams_by_name(source, ["issues", "projects", "sprint_issues", "issue_watchers"])
    managers = {id(r._http_client._session.get_adapter("https://x").poolmanager) for stream in streams for r in cdk_adapter.requesters_in(stream)}
    assert len(managers) == 1


def test_the_shared_pool_keeps_a_connection_for_every_thread_a_read_can_have(keep_alive_server, caplog):
    """Up to 32 CDK workers, 32 per-issue threads and 6 prefetch threads send at once (budget off): the shared pool
    keeps all their connections, with no 'Connection pool is full' warning and no connection opened twice."""
    import logging
    import threading

    url, accepted = keep_alive_server
    connections = transport.SharedConnections()
    sessions = []
    for _ in range(70):
        session = requests.Session()
        session.mount("http://", transport.GuardedAdapter(transport.Timeouts(5, 5, 25), shared=connections))
        sessions.append(session)
    start = threading.Barrier(70)
    statuses: list = []

    def send(session: requests.Session) -> None:
        start.wait()
        for _ in range(3):
            try:
                statuses.append(session.get(f"{url}/rest/api/3/myself?slow=1").status_code)
            except requests.RequestException as error:  # counted: a thread's own exception fails nothing
                statuses.append(repr(error))

    with caplog.at_level(logging.WARNING, logger="urllib3"):
        threads = [threading.Thread(target=send, args=(session,)) for session in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert statuses == [200] * 210, [s for s in statuses if s != 200][:3]
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
    assert len(accepted) <= 70
    connections.close()


@pytest.fixture
def parent_server():
    """Counts GETs per path: `/slow` answers after 0.3 s, `/corrupt-once` answers a cut JSON body the first time and a
    whole one after, anything else answers its path and how many times it was asked."""
    import threading
    from collections import Counter

    hits: Counter = Counter()
    lock = threading.Lock()

    def answer(full_path: str) -> bytes:
        path = full_path.split("?")[0]
        with lock:
            hits[path] += 1
            seen = hits[path]
        if path == "/slow":
            time.sleep(0.3)
        return b'{"values": [1, 2' if path == "/corrupt-once" and seen == 1 else b'{"values": ["%s", %d]}' % (path.encode(), seen)

    with _json_server(answer) as url:
        yield url, hits


def _memo_sessions(count: int, connections: "transport.SharedConnections", memo: bool = True) -> list:
    sessions = []
    for _ in range(count):
        session = requests.Session()
        adapter = transport.GuardedAdapter(transport.Timeouts(5, 5, 25), shared=connections,
                                           memo=connections.responses if memo else None)
        session.mount("http://", adapter)
        sessions.append(session)
    return sessions


def test_a_parent_answer_is_fetched_once_per_read_even_by_readers_asking_at_once(parent_server):
    """Child streams read their parent again: with the read's ResponseMemo, readers asking for the same URL at the same
    time wait for one fetch and each get a copy; another URL is fetched on its own; a requester without the memo (not
    a parent's) always asks; the next read (the memo emptied) asks again."""
    import threading

    url, hits = parent_server
    connections = transport.SharedConnections()
    sessions = _memo_sessions(5, connections)
    bodies = []
    start = threading.Barrier(5)

    def read(session: requests.Session) -> None:
        start.wait()
        bodies.append(session.get(f"{url}/slow?startAt=0").json())

    threads = [threading.Thread(target=read, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert hits["/slow"] == 1 and bodies == [{"values": ["/slow", 1]}] * 5
    assert sessions[0].get(f"{url}/slow?startAt=50").json() == {"values": ["/slow", 2]}  # another page: its own fetch
    assert _memo_sessions(1, connections, memo=False)[0].get(f"{url}/slow?startAt=0").json() == {"values": ["/slow", 3]}
    connections.close()
    assert sessions[1].get(f"{url}/slow?startAt=0").json() == {"values": ["/slow", 4]}


def test_a_corrupt_answer_is_never_kept_and_a_retry_always_asks_jira(parent_server):
    """A 200 whose JSON is cut is handed to its reader (whose error handler retries) but never to another reader; a
    retry (the CDK sends the same prepared request again) goes to Jira even when a good answer is kept."""
    url, hits = parent_server
    connections = transport.SharedConnections()
    first, second = _memo_sessions(2, connections)
    assert first.get(f"{url}/corrupt-once").content == b'{"values": [1, 2'
    assert second.get(f"{url}/corrupt-once").json() == {"values": ["/corrupt-once", 2]}
    assert first.get(f"{url}/corrupt-once").json() == {"values": ["/corrupt-once", 2]}  # kept: no third fetch
    prepared = requests.Request("GET", f"{url}/corrupt-once").prepare()
    assert first.send(prepared).json() == {"values": ["/corrupt-once", 2]}
    assert first.send(prepared).json() == {"values": ["/corrupt-once", 3]}  # the same request again: a retry
    assert hits["/corrupt-once"] == 3


def test_only_the_requesters_of_parent_streams_share_answers():
    from source_jira import SourceJira, cdk_adapter

    source = SourceJira(config={"domain": "acme.atlassian.net", "credentials": {"auth_type": "api_token", "email": "e", "api_token": "t"}})
    streams = cdk_adapter.streams_by_name(source, ["projects", "project_versions", "issues", "screen_tab_fields"])
    sharing = {(r.name, r._http_client._session.get_adapter("https://x").memo is not None) for stream in streams
               for r in cdk_adapter.requesters_in(stream)}
    assert {("projects", True), ("screens", True), ("screen_tabs", True), ("issues", False), ("project_versions", False)} <= sharing
    assert not {name for name, shared in sharing if shared} - {"projects", "screens", "screen_tabs"}
