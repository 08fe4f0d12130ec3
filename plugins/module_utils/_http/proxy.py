# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP proxies: which proxy a request uses, ``no_proxy`` matching (Go's rules, without its special case for
localhost) and parsing the proxy URL. Pure: no I/O.

The API client takes its proxy from the ``proxy``/``no_proxy`` options (``choose_proxy``), as kubernetes.core does.
Imported only when a proxy is configured, so other module runs do not compile it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value


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
