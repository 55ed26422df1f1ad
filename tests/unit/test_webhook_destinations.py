"""Where webhooks may go: the address rule, the operator's allowances, and connections that keep to them."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from core.config import Settings
from core.errors import InvalidField
from core.tasks.webhooks import destinations
from core.tasks.webhooks.destinations import Policy

INTERNAL = [
    "127.0.0.1", "127.8.9.10", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "255.255.255.255", "224.0.0.1", "240.0.0.1", "192.0.2.7", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
    "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::1",
    "2002:c0a8:101::1", "2001:db8::1",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not destinations.public(ipaddress.ip_address(address))
    assert Policy().refusal(address, [ipaddress.ip_address(address)]) is not None
    assert Policy(allow_private=True).refusal(address, [ipaddress.ip_address(address)]) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are(address: str) -> None:
    assert destinations.public(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://LOCALHOST./hook", "http://10.0.0.5/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]:9000/", "http://[fe80::1%25eth0]/", "http://[fd00::1]/",
    "http://0.0.0.0:8000/", "http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://0x7f.1/", "https://[::]/",
])
def test_urls_of_internal_hosts_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(InvalidField) as refused:
        destinations.checked_url(url, Policy())
    assert refused.value.field == "url"
    assert "public addresses only" in refused.value.message and "WEBHOOK_ALLOW_PRIVATE" in refused.value.message


def test_the_message_names_the_address_a_name_resolves_to() -> None:
    with pytest.raises(InvalidField, match=r"host localhost resolves to 127\.0\.0\.1, a loopback address"):
        destinations.checked_url("http://localhost:1/x", Policy())
    with pytest.raises(InvalidField, match=r"address 169\.254\.169\.254 is a link-local address"):
        destinations.checked_url("http://169.254.169.254/", Policy())


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "not a url",
                                 "http:///path-only", "https://exa mple.com/", "http://example.com/\x00", 42,
                                 "https://example.com/" + "x" * 1000])
def test_only_http_and_https_urls_naming_a_host(url: Any) -> None:
    with pytest.raises(InvalidField):
        destinations.checked_url(url, Policy())


def test_public_hosts_and_names_that_do_not_resolve_yet_are_accepted() -> None:
    for url in ("http://93.184.216.34/hook", "https://[2606:4700:4700::1111]/hook",
                "https://no-such-host.invalid/hook"):
        assert destinations.checked_url(f"  {url} ", Policy()) == url


def test_operators_allow_hosts_and_networks() -> None:
    policy = Policy.of(Settings(webhook_allowed_hosts=["LocalHost", "10.0.0.0/8", "fd00::/8"]))
    for url in ("http://localhost:8080/x", "http://10.1.2.3/x", "http://[fd00::5]/x", "http://[::ffff:10.9.9.9]/"):
        assert destinations.checked_url(url, policy) == url
    for url in ("http://127.0.0.1/x", "http://192.168.1.1/x", "http://169.254.169.254/"):
        with pytest.raises(InvalidField):
            destinations.checked_url(url, policy)
    with pytest.raises(ValidationError, match="neither a host name nor a network"):
        Settings(webhook_allowed_hosts=["10.0.0.0/33"])
    with pytest.raises(ValidationError, match="neither a host name nor a network"):
        Settings(webhook_allowed_hosts=["hooks.corp:8080"])


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server answering every POST with a redirect; yields (its port as text, the paths it was asked)."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            asked.append(self.path)
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield str(server.server_address[1]), asked
    server.shutdown()
    server.server_close()


def test_a_delivery_connects_only_where_the_policy_allows_and_follows_no_redirect(
        local_server: tuple[str, list[str]]) -> None:
    port, asked = local_server
    with destinations.client(Policy(), timeout=5) as client, pytest.raises(httpx.ConnectError) as refused:
        client.post(f"http://localhost:{port}/hook", content=b"{}")  # a name resolving to loopback, at connect time
    assert destinations.refused(refused.value) and "resolves to 127.0.0.1" in str(refused.value)
    assert asked == [], "nothing reached the server"

    with destinations.client(Policy(hosts=frozenset({"localhost"})), timeout=5) as client:
        answer = client.post(f"http://localhost:{port}/hook", content=b"{}")
    assert answer.status_code == 302 and asked == ["/hook"], "the redirect was not followed"


def test_a_name_that_does_not_resolve_fails_as_an_ordinary_connection_error() -> None:
    with destinations.client(Policy(), timeout=5) as client, pytest.raises(httpx.ConnectError) as failed:
        client.post("http://no-such-host.invalid/hook", content=b"{}")
    assert not destinations.refused(failed.value) and "cannot be resolved" in str(failed.value)
