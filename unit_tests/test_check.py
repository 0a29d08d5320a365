"""`check`: one clear line for every bad input, no traceback, no secret."""

from __future__ import annotations

import json
import logging
import socket
import ssl

import pytest
from airbyte_cdk.models import Status
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_jira import SourceJira
from source_jira import source as source_module
from unit_tests.conftest import API, base_config

ME = {"accountId": "acc-1", "displayName": "Ana", "emailAddress": None, "timeZone": "Europe/Berlin", "active": True}


@pytest.fixture(autouse=True)
def no_preflight(mocker):
    # unit tests never touch the network: the DNS/TCP/TLS pre-flight is tested on its own below
    return mocker.patch.object(source_module, "preflight")


def run_check(config) -> tuple:
    status = SourceJira(config=config).check(logging.getLogger("test"), config)
    return status.status, status.message


def _project(key: str) -> dict:
    return {"id": "1" + str(len(key)), "key": key, "name": key}


def test_check_succeeds_on_myself():
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/myself"), HttpResponse(json.dumps(ME), 200))
        status, message = run_check(base_config())
    assert status == Status.SUCCEEDED, message


@pytest.mark.parametrize(
    "code,body,expected",
    [
        (401, {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}}, "rejected the credentials (HTTP 401)"),
        (403, {"errorMessages": ["You do not have permission"], "errors": {}}, "lacks a permission"),
        (404, {"errorMessages": ["Site temporarily unavailable"]}, "404"),
    ],
)
def test_check_explains_http_errors_in_one_line_without_secret(code, body, expected):
    config = base_config()
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/myself"), HttpResponse(json.dumps(body), code))
        status, message = run_check(config)
    assert status == Status.FAILED
    assert expected in message
    assert "\n" not in message and "Traceback" not in message
    assert config["credentials"]["api_token"] not in message
    if body.get("errorMessages"):
        assert body["errorMessages"][0] in message


def test_check_names_unknown_project_keys():
    config = base_config(projects=["P1", "NOPE", "GONE"])
    with HttpMocker() as http:
        http.get(HttpRequest(f"{API}/myself"), HttpResponse(json.dumps(ME), 200))
        http.get(
            HttpRequest(f"{API}/project/search", query_params={"expand": "description,lead,issueTypes,url,projectKeys,insight", "status": "live", "maxResults": "50"}),
            HttpResponse(json.dumps({"startAt": 0, "maxResults": 50, "total": 1, "isLast": True, "values": [_project("P1")]}), 200),
        )
        status, message = run_check(config)
    assert status == Status.FAILED
    assert "NOPE" in message and "GONE" in message and "P1," not in message


@pytest.mark.parametrize(
    "domain,expected",
    [
        ("http://acme.atlassian.net", "HTTPS only"),
        ("https://user@acme.atlassian.net", "not a valid host"),
        ("acme atlassian", "not a valid host"),
        ("", "empty"),
    ],
)
def test_malformed_domains_fail_at_construction_with_one_line(domain, expected):
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    with pytest.raises(AirbyteTracedException) as info:
        SourceJira(config=base_config(domain=domain))
    assert expected in info.value.message


def test_preflight_reports_dns_failure(mocker, no_preflight):
    mocker.stopall()
    mocker.patch.object(socket, "getaddrinfo", side_effect=socket.gaierror("nodename nor servname"))
    with pytest.raises(Exception) as info:
        source_module.preflight("nosuchsite.atlassian.net")
    assert "not found (DNS lookup failed)" in info.value.message


def test_preflight_reports_refused_connection(mocker):
    mocker.stopall()
    # a port nobody listens on, on loopback: refused at once
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(Exception) as info:
        source_module.preflight(f"127.0.0.1:{port}", timeout=3)
    assert "unreachable" in info.value.message


def test_preflight_reports_untrusted_certificate(mocker, tmp_path):
    """A TLS server whose certificate is not trusted: a TLS failure, said as such."""
    mocker.stopall()
    import threading
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        try:
            server_ctx.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    mocker.patch.dict("os.environ", {"REQUESTS_CA_BUNDLE": ""})
    try:
        with pytest.raises(Exception) as info:
            source_module.preflight(f"127.0.0.1:{port}", timeout=3)
    finally:
        listener.close()
    assert "TLS failure" in info.value.message
