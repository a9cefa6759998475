"""Serving beyond loopback: the token, the Host names allowed, and the addresses to tell the user.

A browser on another machine sends the address it typed as its Host header, and the server answers
only the names it knows (DNS rebinding: see security.py). Bound to a wildcard address (``0.0.0.0``,
``::``), the server therefore allows this machine's own addresses and prints them as URLs; a name
(``mybox.lan``) has to be allowed with ``--allow-host``.
"""
from __future__ import annotations

import ipaddress
import secrets
import socket

# Where a UDP socket "connects" to learn the address of the default route; nothing is sent. These
# documentation addresses (RFC 5737, RFC 3849) have no route of their own on an ordinary machine.
ROUTE_PROBES = {socket.AF_INET: "198.51.100.1", socket.AF_INET6: "2001:db8::1"}


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` listens on this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether binding ``host`` listens on every address of the machine (``0.0.0.0``, ``::``)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == ""


def access_settings(host: str, token: str | None,
                    allowed_hosts: tuple[str, ...]) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """``(token, allowed_hosts, addresses)`` for a server bound to ``host``.

    Beyond loopback a token is always required (made up when not given, as Jupyter does), and the
    addresses other machines can use (``host`` itself, or this machine's for a wildcard) are allowed.
    """
    if is_loopback(host):
        return token, allowed_hosts, ()
    addresses = machine_addresses(host) if is_wildcard(host) else (host,)
    return token or secrets.token_urlsafe(24), (*allowed_hosts, host, *addresses), addresses


def machine_addresses(host: str) -> tuple[str, ...]:
    """This machine's addresses another machine could reach a server bound to wildcard ``host`` at:
    those of its host name and that of its default route, IPv4 (and IPv6 for ``::``), no loopback."""
    families = (socket.AF_INET, socket.AF_INET6) if ":" in host else (socket.AF_INET,)
    found: list[str] = []
    for family in families:
        found += hostname_addresses(family)
        found += route_address(family)
    usable = [a for a in dict.fromkeys(found) if is_reachable_address(a)]
    return tuple(usable)


def hostname_addresses(family: socket.AddressFamily) -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM)
    except OSError:  # the host name does not resolve
        return []
    return [info[4][0] for info in infos]


def route_address(family: socket.AddressFamily) -> list[str]:
    """The local address of the default route (a UDP connect only picks the route; it sends nothing)."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((ROUTE_PROBES[family], 9))
            return [probe.getsockname()[0]]
    except OSError:  # no route (an offline machine, no IPv6)
        return []


def is_reachable_address(address: str) -> bool:
    """Not loopback and not IPv6 link-local (a URL would need the zone, which browsers refuse)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or (ip.version == 6 and ip.is_link_local))


def url_for_address(address: str, port: int, token: str | None) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/" + (f"?token={token}" if token else "")


def exposure_notice(host: str, port: int, token: str | None, addresses: tuple[str, ...]) -> str:
    """The warning printed when the server listens beyond loopback: which URLs work, and from where."""
    lines = [f"WARNING: normlab is listening on {host}, not just this machine. Every request must carry its "
             f"token: open one of these addresses once (a cookie then keeps the token)."]
    if is_wildcard(host):
        lines.append(f"  this machine:   {url_for_address('127.0.0.1', port, token)}")
        lines += [f"  other machines: {url_for_address(a, port, token)}" for a in addresses]
        if not addresses:
            lines.append("  other machines: none (no address of this machine beyond loopback was found)")
    else:
        lines += [f"  {url_for_address(a, port, token)}" for a in addresses]
    name = socket.gethostname() or "NAME"
    lines.append(f"The server answers only to these addresses and the names it is given: to open it by a name "
                 f"such as {name}, start it with --allow-host NAME (e.g. --allow-host {name}).")
    return "\n" + "\n".join(lines) + "\n"
