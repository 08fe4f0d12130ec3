# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ClusterConfig``, where to connect and how to authenticate for one run, with every secret it holds; and the two
checks each of its sources shares: the API server URL's form, and reading the files it names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    DEFAULT_REQUEST_TIMEOUT,
)

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import ExecCredential


# Never in a repr: the credentials, and the plugin that fetches them.
_SECRET_FIELDS = frozenset({"token", "password", "client_key_data", "written_secrets", "refresh_credentials"})


# A NamedTuple rather than a dataclass: a shipped module creates this class on every run (see _operation.py).
class ClusterConfig(NamedTuple):
    """Everything the transport needs for one module run. PEM material is text; secrets stay out of ``repr``."""

    server: str
    namespace: str = "default"
    verify_tls: bool = True
    verify_origin: str = ""  # what turned verification off, for the warning
    ca_data: str | None = None
    ca_origin: str = "the system trust store"
    tls_server_name: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None
    client_cert_data: str | None = None
    client_key_data: str | None = None
    proxy: str | None = None
    no_proxy: str | None = None
    impersonate_user: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    source: str = "module options"
    user_label: str = ""
    token_expires_at: datetime | None = None
    # What the task result's warnings say about this connection (verification turned off, plain HTTP).
    warnings: tuple[str, ...] = ()
    # Secrets as they were written where they came from (a kubeconfig dict is a module argument): for masking only.
    written_secrets: tuple[str, ...] = ()
    # Runs the exec credential plugin (again), for the first credential and for those that expire (or are
    # refused) during a run.
    refresh_credentials: Callable[[], ExecCredential] | None = None

    def __repr__(self) -> str:
        shown = (f"{name}={getattr(self, name)!r}" for name in self._fields if name not in _SECRET_FIELDS)
        return f"ClusterConfig({', '.join(shown)})"

    @property
    def credential_kind(self) -> str:
        kinds = []
        if self.token:
            kinds.append("bearer token")
        if self.username is not None:
            kinds.append("basic auth")
        if self.client_cert_data:
            kinds.append("client certificate")
        return " and ".join(kinds) or "no credentials (anonymous)"

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, in each form it may be printed in, for ``module.no_log_values``:
        the proxy URL's password (raw and percent-decoded, with ``user:``, and as the Proxy-Authorization value),
        and the secrets of a kubeconfig as written there (``client-key-data`` is base64, not the PEM)."""
        values = [value for value in (self.token, self.password, self.client_key_data) if value]
        if self.username is not None and self.password:
            values.append(basic_auth_value(self.username, self.password))
        values += proxy_secret_values(self.proxy)
        values += [value for value in self.written_secrets if value]
        return values

    def with_exec_credential(self, credential: ExecCredential) -> ClusterConfig:
        """This configuration with what the exec plugin answered, which takes over from static credentials of the
        same user, as in client-go."""
        changes: dict[str, Any] = {"token_expires_at": credential.expires_at}
        if credential.token:
            changes["token"] = credential.token
        if credential.client_certificate_data:
            changes["client_cert_data"] = credential.client_certificate_data
            changes["client_key_data"] = credential.client_key_data
        return self._replace(**changes)


def proxy_secret_values(proxy: str | None) -> list[str]:
    """The password of ``http://user:password@host:port`` in every form it can appear in."""
    if not proxy or "@" not in proxy:
        return []
    userinfo = proxy.split("://", 1)[-1].rsplit("@", 1)[0]
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return []
    decoded_user, decoded_password = unquote(user), unquote(password)
    return sorted(
        {
            password,
            decoded_password,
            userinfo,
            f"{decoded_user}:{decoded_password}",
            basic_auth_value(decoded_user, decoded_password),
        }
    )


def normalize_server_url(server: str, *, where: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; a bare ``host:port`` means HTTPS, like kubectl."""
    text = server.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise KubeAuthConfigError(
            f"{where} {server!r} contains spaces or control characters; write it like "
            "https://api.cluster.example.com:6443"
        )
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise KubeAuthConfigError(
            f"{where} {server!r} is not an API server URL; write it like https://api.cluster.example.com:6443"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise KubeAuthConfigError(f"{where} {server!r} has an invalid port") from None
    return text.rstrip("/")


def read_named_file(path: str, what: str, fix: str) -> str:
    """The text of a file the configuration names (a CA, a certificate, a token); the error says what it is for and
    how to fix it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KubeAuthConfigError(f"{what} {path} does not exist; {fix}") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not readable text"
        raise KubeAuthConfigError(f"cannot read {what} {path}: {reason}; {fix}") from None
