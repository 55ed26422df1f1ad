"""Where webhooks may go: http(s) URLs of public addresses, unless the operator allows more.

A webhook's URL is chosen by a user and posted to by every worker, so without this rule anyone
who may add a webhook could make CaseFlow call internal services: the cloud metadata service at
169.254.169.254, an admin port on 127.0.0.1, a database on 10.x. A webhook goes only to
globally reachable unicast addresses: not loopback, private (10/8, 172.16/12, 192.168/16,
fc00::/7), link-local (169.254/16, fe80::/10), shared (100.64/10), unspecified (0.0.0.0, ::),
multicast, reserved or documentation ranges, nor IPv6 forms of such an IPv4 address
(::ffff:127.0.0.1, 6to4, NAT64).

It is checked when a webhook is added (the host, and what its name resolves to then) and again
at every delivery, on the addresses the connection uses: :class:`GuardedBackend` resolves the
name, checks every address and connects to a checked one, so a name that later resolves to an
internal address (DNS rebinding) is refused too. Deliveries follow no redirect and use no proxy.

WEBHOOK_ALLOW_PRIVATE=true lifts the address rule; WEBHOOK_ALLOWED_HOSTS names hosts and
networks (CIDR) that are allowed all the same.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from core import inputs
from core.config import Settings
from core.errors import InvalidField
from core.messages import Text, phrase

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 1000
SCHEMES = ("http", "https")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
"""The NAT64 well-known prefix: its last 32 bits are the IPv4 address reached."""
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
ALLOW_HINT = phrase("CaseFlow sends webhooks to public addresses only; an operator can allow this host with "
              "WEBHOOK_ALLOWED_HOSTS, or every address with WEBHOOK_ALLOW_PRIVATE=true.")


@dataclass(frozen=True)
class Policy:
    """Which destinations besides public addresses an operator allows."""

    allow_private: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        hosts, networks = [], []
        for entry in settings.webhook_allowed_hosts:
            network = network_of(entry)
            if network is None:
                hosts.append(normal_host(entry))
            else:
                networks.append(network)
        return cls(settings.webhook_allow_private, frozenset(hosts), tuple(networks))

    def refusal(self, host: str, addresses: list[Address]) -> str | None:
        """Why ``host`` (resolving to ``addresses``) is not a place for webhooks, or None when it is."""
        if self.allow_private or normal_host(host) in self.hosts:
            return None
        for address in addresses:
            if not (public(address) or any(a in n for a in _forms(address) for n in self.networks)):
                if _literal(host) is not None:
                    return Text("The webhook URL's address {host} is {kind}. {hint}", host=host,
                                kind=_kind(address), hint=ALLOW_HINT)
                return Text("The webhook URL's host {host} resolves to {address}, {kind}. {hint}", host=host,
                            address=str(address), kind=_kind(address), hint=ALLOW_HINT)
        return None


def checked_url(url: Any, policy: Policy) -> str:
    """The URL (stripped) if webhooks may be sent there; InvalidField("url") saying why not.

    A host name that does not resolve now is accepted: deliveries check it again.
    """
    if problem := inputs.text_problem(url, "The webhook URL", limit=MAX_URL_LENGTH, single_line=True):
        raise InvalidField(problem, "url")
    url = url.strip()
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or any(char.isspace() for char in url):
        raise InvalidField("The webhook URL is not a valid URL.", "url")
    if parsed.scheme not in SCHEMES or not parsed.raw_host:
        raise InvalidField("A webhook URL must start with http:// or https:// and name a host.", "url")
    host = parsed.raw_host.decode("ascii")
    try:
        addresses = resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except OSError:
        literal = _literal(host)
        addresses = [] if literal is None else [literal]
    if problem := policy.refusal(host, addresses):
        raise InvalidField(problem, "url")
    return url


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` names (a literal address names itself); OSError when it resolves to none.

    A trailing dot is dropped ("localhost." is localhost).
    """
    found = socket.getaddrinfo(host.rstrip(".") or host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]) for *_, sockaddr in found))


def public(address: Address) -> bool:
    """A globally reachable unicast address, also when IPv6 wraps an IPv4 address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return public(embedded)
    if isinstance(address, ipaddress.IPv6Address) and (address.is_site_local or address in LOCAL_NAT64):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def network_of(entry: str) -> Network | None:
    """``entry`` of WEBHOOK_ALLOWED_HOSTS as a network ("10.0.0.0/8", "fd00::/8", "10.1.2.3"), None for a name."""
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


def normal_host(host: str) -> str:
    """A host name as allow-lists compare it: lower case, no trailing dot, IDNA (what connections name)."""
    name = host.strip().lower().rstrip(".")
    try:
        return httpx.URL(f"http://{name}/").raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError):
        return name


class DestinationRefused(httpcore.ConnectError):
    """A delivery's host resolved to an address the policy refuses; retrying would not help."""


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses the policy allows, resolving the name itself and connecting to what it checked."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"{host} cannot be resolved: {error}") from None
        if problem := self.policy.refusal(host, addresses):
            raise DestinationRefused(problem)
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # resolve() returns at least one address
        raise failure


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: Policy) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend of its own (encode/httpx#3749): the pool it made is replaced by one
        # whose connections go through the guard. TLS still verifies and sends the URL's host name.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=GuardedBackend(policy))


def client(policy: Policy, timeout: float) -> httpx.Client:
    """An HTTP client for deliveries: guarded connections, no redirects, no proxy from the environment."""
    return httpx.Client(transport=_GuardedTransport(policy), timeout=timeout, follow_redirects=False, trust_env=False)


def refused(error: httpx.HTTPError) -> bool:
    """Whether a delivery failed because its destination is refused (not worth retrying)."""
    return isinstance(error.__cause__, DestinationRefused)


def _forms(address: Address) -> tuple[Address, ...]:
    embedded = _embedded_ipv4(address)
    return (address,) if embedded is None else (address, embedded)


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: Address) -> str:
    address = _embedded_ipv4(address) or address
    for kind, words in (("is_loopback", phrase("a loopback address")),
                        ("is_unspecified", phrase("the unspecified address")),
                        ("is_link_local", phrase("a link-local address (cloud metadata services live there)")),
                        ("is_multicast", phrase("a multicast address")), ("is_private", phrase("a private address"))):
        if getattr(address, kind):
            return words
    return phrase("not a public address")


def _literal(host: str) -> Address | None:
    """The address a host written as one names (an IPv6 zone, "%25eth0" in a URL, left out); None for a name."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None

