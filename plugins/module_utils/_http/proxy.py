# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP proxies: which proxy a request uses, ``no_proxy`` matching (Go's rules, without its special case for
localhost) and parsing the proxy URL. Pure: no I/O.

The API client takes its proxy from the ``proxy``/``no_proxy`` options (``choose_proxy``), as kubernetes.core does;
the registry check from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (``environment_proxy``), as podman and skopeo do.
Imported by the clients only when a proxy may be used, so other module runs do not compile it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ImagesError,
    InvalidInputError,
    KubeAuthConfigError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value

# The variables naming the proxy for each scheme, and the exceptions, in the order they are read: the first that
# is set and not empty wins, so upper case wins over lower case (Go's httpproxy.FromEnvironment). HTTPS requests
# never fall back to HTTP_PROXY.
PROXY_VARIABLES = {"https": ("HTTPS_PROXY", "https_proxy"), "http": ("HTTP_PROXY", "http_proxy")}
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")


def no_proxy_matches(host: str, port: int | None, no_proxy: str | None) -> bool:
    """Whether ``host`` is reached directly by the rules of ``no_proxy`` (Go's ``httpproxy`` semantics):
    ``*`` matches every host; an IP or CIDR matches addresses; ``example.com`` matches it and its subdomains,
    ``.example.com`` only subdomains; an entry with ``:port`` matches that port only.
    """
    if not no_proxy:
        return False
    host = host.strip("[]").lower().rstrip(".")
    address = _ip_or_none(host)
    return any(_no_proxy_entry_matches(entry.strip().lower(), host, address, port) for entry in no_proxy.split(","))


def _no_proxy_entry_matches(
    entry: str, host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: int | None
) -> bool:
    if entry == "*":
        return True
    entry, entry_port = _split_entry_port(entry)
    if not entry or (entry_port is not None and entry_port != port):
        return False
    if "/" in entry:
        try:
            return address is not None and address in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    entry_address = _ip_or_none(entry)
    if entry_address is not None:
        return address == entry_address
    domain = entry.rstrip(".").removeprefix("*")
    return host.endswith(domain) if domain.startswith(".") else host == domain or host.endswith(f".{domain}")


def _split_entry_port(entry: str) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port`` or a bare host/IP (a bare IPv6 address has colons but no port)."""
    if _ip_or_none(entry) is not None:
        return entry, None
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::([0-9]+))?", entry)
    if bracketed:
        return bracketed.group(1), int(bracketed.group(2)) if bracketed.group(2) else None
    name, colon, digits = entry.rpartition(":")
    if colon and digits.isascii() and digits.isdigit():  # str.isdigit() is also true for "²", which int() refuses
        return name, int(digits)
    return entry, None


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# Small records are NamedTuples: a module run creates these classes every time, and a dataclass costs ten times
# more to create (measured with benchmarks/run.py).


class ProxyEndpoint(NamedTuple):
    scheme: str
    host: str
    port: int
    authorization: str | None = None  # the Proxy-Authorization value; a secret

    def __repr__(self) -> str:
        hidden = "<hidden>" if self.authorization else None
        return f"ProxyEndpoint(scheme={self.scheme!r}, host={self.host!r}, port={self.port}, authorization={hidden})"


def parse_proxy_url(proxy: str) -> ProxyEndpoint:
    text = proxy if "://" in proxy else f"http://{proxy}"
    parts = urlsplit(text)
    if parts.scheme != "http":
        raise KubeAuthConfigError(
            f"proxy scheme {parts.scheme!r} is not supported; use an HTTP proxy URL like http://proxy.example.com:3128"
        )
    if not parts.hostname:
        raise KubeAuthConfigError("the proxy URL has no host; write it like http://proxy.example.com:3128")
    try:
        port = parts.port or 80
    except ValueError:
        raise KubeAuthConfigError("the proxy URL has an invalid port") from None
    authorization = None
    if parts.username is not None:
        user, password = unquote(parts.username), unquote(parts.password or "")
        authorization = f"Basic {basic_auth_value(user, password)}"
    return ProxyEndpoint(scheme=parts.scheme, host=parts.hostname, port=port, authorization=authorization)


def choose_proxy(server: str, proxy: str | None, no_proxy: str | None) -> ProxyEndpoint | None:
    """The proxy to use for ``server`` (a URL) from the ``proxy``/``no_proxy`` options, or ``None`` to connect
    directly."""
    if not proxy:
        return None
    parts = urlsplit(server)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if no_proxy_matches(parts.hostname or "", port, no_proxy):
        return None
    return parse_proxy_url(proxy)


def environment_proxy(
    scheme: str, host: str, port: int, environ: Mapping[str, str]
) -> tuple[str, ProxyEndpoint] | None:
    """The proxy a request to ``scheme://host:port`` uses by the environment, with the variable that named it, or
    ``None`` to connect directly: ``HTTPS_PROXY`` for https, ``HTTP_PROXY`` for http (each also in lower case),
    unless ``NO_PROXY`` matches (``no_proxy_matches``; ``localhost`` and loopback addresses get no special case).

    A proxy URL this transport cannot use raises ``InvalidInputError`` naming the variable, never its value (which
    may hold a password)."""
    named = _first_set(environ, PROXY_VARIABLES.get(scheme, ()))
    if named is None:
        return None
    no_proxy = _first_set(environ, NO_PROXY_VARIABLES)
    if no_proxy_matches(host, port, no_proxy[1] if no_proxy else None):
        return None
    variable, url = named
    try:
        return variable, parse_proxy_url(url)
    except ImagesError as error:
        raise InvalidInputError(f"the {variable} environment variable: {error}") from None


def _first_set(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    return next(((name, environ[name]) for name in names if environ.get(name)), None)
