# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where to connect and how to authenticate: module options and ``K8S_AUTH_*``, kubeconfig files merged the way
kubectl merges them, the in-cluster service account, and exec credential plugins, resolved into one ``ClusterConfig``.

Exec plugins (``_kube/exec_credential``) and YAML reading (``_kube/yaml_subset``, then PyYAML) are imported only when a
kubeconfig needs them: a module run compiles its module_utils from source, so unused code still costs it time.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
    KubeAuthConfigError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    CONNECTION_ENV_VARS,
    DEFAULT_REQUEST_TIMEOUT,
)

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import (
        ExecCredential,
        ExecPlugin,
    )

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# AnsibleModule applies the environment fallbacks before the core sees the options, so the origin names all three.
VALIDATE_CERTS_OFF = "validate_certs: false, from the option or K8S_AUTH_VALIDATE_CERTS/K8S_AUTH_VERIFY_SSL"


# Small records are NamedTuples: a module run creates these classes every time, and a dataclass costs ten times
# more to create (measured with benchmarks/run.py).


def _redacted_repr(record: tuple[Any, ...], secrets: tuple[str, ...]) -> str:
    fields = ", ".join(
        f"{name}={'<hidden>' if name in secrets and value else repr(value)}"
        for name, value in zip(record._fields, record, strict=True)  # type: ignore[attr-defined]
    )
    return f"{type(record).__name__}({fields})"


class ConnectionOptions(NamedTuple):
    """The connection options after ``K8S_AUTH_*`` fallbacks and type conversion; ``None`` means not given."""

    kubeconfig: str | dict[str, Any] | None = None
    context: str | None = None
    host: str | None = None
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    validate_certs: bool | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    proxy: str | None = None
    no_proxy: str | None = None
    impersonate_user: str | None = None
    impersonate_groups: tuple[str, ...] | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key or self.username or self.password or self.client_cert or self.client_key)

    def __repr__(self) -> str:
        return _redacted_repr(self, ("api_key", "password"))


class SelectedContext(NamedTuple):
    """One kubeconfig context with its cluster and user entries (plain kubeconfig dicts)."""

    name: str
    cluster_name: str
    cluster: dict[str, Any]
    user_name: str
    user: dict[str, Any]
    namespace: str | None


@dataclass(frozen=True)
class ClusterConfig:
    """Everything the transport needs for one module run. PEM material is text; secrets stay out of ``repr``."""

    server: str
    namespace: str = "default"
    verify_tls: bool = True
    ca_data: str | None = None
    ca_origin: str = "the system trust store"
    tls_server_name: str | None = None
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_cert_data: str | None = None
    client_key_data: str | None = field(default=None, repr=False)
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
    written_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Runs the exec credential plugin again, for credentials that expire (or are refused) during a run.
    refresh_credentials: Callable[[], ExecCredential] | None = field(default=None, repr=False, compare=False)

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


# ---------------------------------------------------------------------------------------------------------------
# Options


def parse_connection_options(params: Mapping[str, Any], environ: Mapping[str, str]) -> ConnectionOptions:
    """Options from ``params``, filling unset ones from ``K8S_AUTH_*`` like the argument spec's ``env_fallback``.

    Modules already got the fallbacks from AnsibleModule; callers that are not modules get the same behaviour here.
    """
    raw: dict[str, Any] = {}
    from_env: set[str] = set()
    for option, variables in CONNECTION_ENV_VARS.items():
        value = params.get(option)
        if value is None:
            value = next((environ[name] for name in variables if name in environ), None)
            if value is not None:
                from_env.add(option)
        raw[option] = value

    def where(option: str) -> str:
        return "/".join(CONNECTION_ENV_VARS[option]) if option in from_env else f"option {option}"

    kubeconfig = raw["kubeconfig"]
    if kubeconfig is not None and not isinstance(kubeconfig, str | dict):
        raise InvalidInputError(
            f"kubeconfig must be a path (or paths separated by ':') or a kubeconfig dictionary, "
            f"not {type(kubeconfig).__name__}"
        )
    if kubeconfig == "":
        kubeconfig = None

    validate_certs = raw["validate_certs"]
    if isinstance(validate_certs, str):
        validate_certs = _parse_bool(validate_certs, where("validate_certs"))

    groups = _parse_groups(raw["impersonate_groups"])
    timeout = _parse_timeout(raw["request_timeout"], where("request_timeout"))
    options = ConnectionOptions(
        kubeconfig=kubeconfig,
        context=raw["context"] or None,
        host=raw["host"] or None,
        api_key=raw["api_key"] or None,
        username=raw["username"] if raw["username"] not in (None, "") else None,
        password=raw["password"] if raw["password"] not in (None, "") else None,
        validate_certs=validate_certs,
        ca_cert=_expand(raw["ca_cert"]),
        client_cert=_expand(raw["client_cert"]),
        client_key=_expand(raw["client_key"]),
        proxy=raw["proxy"] or None,
        no_proxy=raw["no_proxy"] or None,
        impersonate_user=raw["impersonate_user"] or None,
        impersonate_groups=groups,
        request_timeout=timeout,
    )
    if (options.username is None) != (options.password is None):
        raise InvalidInputError("username and password must be given together (HTTP basic authentication)")
    if bool(options.client_cert) != bool(options.client_key):
        raise InvalidInputError("client_cert and client_key must be given together")
    if options.api_key and options.username is not None:
        raise InvalidInputError("give either api_key or username/password, not both")
    return options


def _parse_groups(value: str | Sequence[Any] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return tuple(text for text in (str(item).strip() for item in items) if text) or None


def _parse_timeout(value: Any, where: str) -> float:
    if value is None:
        return DEFAULT_REQUEST_TIMEOUT
    try:
        timeout = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{where} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidInputError(f"{where} must be more than 0 seconds, got {value!r}")
    return timeout


def _parse_bool(value: str, where: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on", "y", "t"):
        return True
    if lowered in ("0", "false", "no", "off", "n", "f"):
        return False
    raise InvalidInputError(f"{where} must be a boolean (true/false), got {value!r}")


def _expand(path: str | None) -> str | None:
    return os.path.expanduser(os.path.expandvars(path)) if path else None


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


# ---------------------------------------------------------------------------------------------------------------
# Kubeconfig files


def kubeconfig_paths(option: str | None, environ: Mapping[str, str]) -> tuple[list[str], bool]:
    """The files to read, and whether they were asked for explicitly (then a missing file is an error).

    ``option`` (the ``kubeconfig`` option) wins, then ``KUBECONFIG``, then ``~/.kube/config``, as in kubectl.
    """
    if option:
        return _split_paths(option), True
    if environ.get("KUBECONFIG"):
        return _split_paths(environ["KUBECONFIG"]), False
    home = environ.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")], False


def _split_paths(value: str) -> list[str]:
    paths: list[str] = []
    for entry in value.split(os.pathsep):
        path = os.path.expanduser(entry.strip())
        if path and path not in paths:
            paths.append(path)
    return paths


def read_kubeconfig_files(paths: Sequence[str], *, explicit: bool) -> list[tuple[str, dict[str, Any]]]:
    """Parse each existing file; missing files are skipped unless ``explicit``."""
    documents: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            if explicit:
                raise KubeAuthConfigError(
                    f"kubeconfig file {path} does not exist; fix the kubeconfig option or K8S_AUTH_KUBECONFIG"
                ) from None
            continue
        except OSError as error:
            raise KubeAuthConfigError(
                f"cannot read kubeconfig file {path}: {error.strerror}; point the kubeconfig option (or "
                "K8S_AUTH_KUBECONFIG) at a readable kubeconfig file"
            ) from None
        documents.append((path, parse_kubeconfig_text(text, path)))
    return documents


def parse_kubeconfig_text(text: str, where: str) -> dict[str, Any]:
    document: Any = None
    if text.lstrip().startswith("{"):
        try:  # JSON is YAML too, and far cheaper to load than the yaml package
            document = json.loads(text)
        except ValueError:
            document = None
    if document is None:
        from ansible_collections.openshift_ops.images.plugins.module_utils._kube.yaml_subset import (  # noqa: PLC0415 - compiled only when needed
            read_block_yaml,
        )

        document = read_block_yaml(text)
    if document is None:
        document = _load_yaml(text, where)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise KubeAuthConfigError(f"kubeconfig {where} is not a kubeconfig: expected a mapping at the top level")
    return document


def _load_yaml(text: str, where: str) -> Any:
    try:
        import yaml  # noqa: PLC0415 - only paid for when a YAML kubeconfig is read
    except ImportError as error:
        raise KubeAuthConfigError(
            f"kubeconfig {where} is YAML that the built-in reader does not handle, and PyYAML is not installed"
            " where the module runs: install PyYAML there (python3 -m pip install PyYAML) or write the kubeconfig"
            " in the block style `oc` and `kubectl` write"
        ) from error

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise KubeAuthConfigError(f"kubeconfig {where} is not valid YAML{at}; fix or regenerate it") from None


_CLUSTER_PATH_FIELDS = ("certificate-authority",)
_USER_PATH_FIELDS = ("client-certificate", "client-key", "tokenFile")


def merge_kubeconfigs(documents: Sequence[tuple[str | None, Mapping[str, Any]]]) -> dict[str, Any]:
    """Merge kubeconfig documents like kubectl merges ``KUBECONFIG``: per cluster/user/context name and for
    ``current-context`` the first document that sets it wins. Relative file paths are resolved against the directory
    of the file that holds them (``None``: the current directory).

    Returns ``{"clusters": {name: cluster}, "users": {name: user}, "contexts": {name: context},
    "current-context": str | None, "origins": {("clusters"|"users"|"contexts", name): file}}``.
    """
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": None, "origins": {}}
    for path, document in documents:
        where = path or "the kubeconfig dictionary"
        base = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
        if merged["current-context"] is None and document.get("current-context"):
            merged["current-context"] = str(document["current-context"])
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            entries = document.get(section) or []
            if not isinstance(entries, list):
                raise KubeAuthConfigError(f"kubeconfig {where}: '{section}' must be a list")
            for entry in entries:
                if not isinstance(entry, dict) or not entry.get("name"):
                    raise KubeAuthConfigError(f"kubeconfig {where}: every entry of '{section}' needs a name")
                name = str(entry["name"])
                if name in merged[section]:
                    continue
                body = entry.get(inner) or {}
                if not isinstance(body, dict):
                    raise KubeAuthConfigError(f"kubeconfig {where}: {section} entry {name!r} has no '{inner}' mapping")
                merged[section][name] = _resolve_paths(section, copy.deepcopy(body), base)
                merged["origins"][(section, name)] = where
    return merged


def _resolve_paths(section: str, body: dict[str, Any], base: str) -> dict[str, Any]:
    fields = _CLUSTER_PATH_FIELDS if section == "clusters" else _USER_PATH_FIELDS if section == "users" else ()
    for name in fields:
        value = body.get(name)
        if isinstance(value, str) and value and not os.path.isabs(value):
            body[name] = os.path.join(base, os.path.expanduser(value))
    exec_spec = body.get("exec") if section == "users" else None
    # kubectl resolves the exec command only when it is a path, not a name looked up in PATH.
    if isinstance(exec_spec, dict):
        command = exec_spec.get("command")
        if isinstance(command, str) and os.sep in command and not os.path.isabs(command):
            exec_spec["command"] = os.path.join(base, command)
    return body


def select_context(merged: Mapping[str, Any], requested: str | None, *, where: str) -> SelectedContext:
    """The context named ``requested`` (else ``current-context``) with its cluster and user."""
    contexts: dict[str, Any] = merged["contexts"]
    available = ", ".join(sorted(contexts)) or "none"
    name = requested or merged.get("current-context")
    if not name:
        raise KubeAuthConfigError(
            f"{where} sets no current-context; set the context option (or K8S_AUTH_CONTEXT) to one of: {available}"
        )
    if name not in contexts:
        how = "the context option" if requested else "current-context"
        raise KubeAuthConfigError(
            f"context {name!r} ({how}) is not defined in {where}; defined contexts: {available}. "
            "Fix the name or run 'oc login' / 'kubectl config use-context'"
        )
    context = contexts[name]
    cluster_name = str(context.get("cluster") or "")
    if cluster_name not in merged["clusters"]:
        raise KubeAuthConfigError(
            f"context {name!r} in {where} refers to cluster {cluster_name!r}, which is not defined there"
        )
    cluster = merged["clusters"][cluster_name]
    if not cluster.get("server"):
        raise KubeAuthConfigError(f"cluster {cluster_name!r} in {where} has no server URL")
    user_name = str(context.get("user") or "")
    if user_name and user_name not in merged["users"]:
        raise KubeAuthConfigError(f"context {name!r} in {where} refers to user {user_name!r}, which is not defined")
    user = merged["users"].get(user_name, {}) if user_name else {}
    namespace = context.get("namespace") or None
    return SelectedContext(
        name=str(name),
        cluster_name=cluster_name,
        cluster=cluster,
        user_name=user_name,
        user=user,
        namespace=str(namespace) if namespace else None,
    )


def _decode_data(value: Any, what: str) -> str:
    """A kubeconfig ``*-data`` field (base64 of PEM) as text; the message never shows the value."""
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise KubeAuthConfigError(f"{what} is not valid base64-encoded PEM; regenerate the kubeconfig") from None


def _read_text(path: str, what: str, fix: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KubeAuthConfigError(f"{what} {path} does not exist; {fix}") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not readable text"
        raise KubeAuthConfigError(f"cannot read {what} {path}: {reason}; {fix}") from None


@dataclass
class _Draft:
    """A ClusterConfig under construction."""

    server: str
    namespace: str | None = None
    verify_tls: bool = True
    verify_origin: str = ""  # what turned verification off
    ca_data: str | None = None
    ca_origin: str = "the system trust store"
    tls_server_name: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None
    client_cert_data: str | None = None
    client_key_data: str | None = None
    proxy: str | None = None
    impersonate_user: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    source: str = "module options"
    overridden: list[str] = field(default_factory=list)
    user_label: str = ""
    token_expires_at: datetime | None = None
    exec_plugin: ExecPlugin | None = None
    exec_cluster: dict[str, Any] = field(default_factory=dict)
    written_secrets: list[str] = field(default_factory=list)


def _pem(entry: Mapping[str, Any], name: str, where: str) -> tuple[str | None, str]:
    """``<name>-data`` (base64) wins over the file ``<name>``, as in client-go; returns the PEM and its origin."""
    if entry.get(f"{name}-data"):
        origin = f"{name}-data of {where}"
        return _decode_data(entry[f"{name}-data"], origin), origin
    if entry.get(name):
        path = str(entry[name])
        return _read_text(path, f"{name} of {where}", "fix the path in the kubeconfig"), f"file {path}"
    return None, ""


def draft_from_context(selected: SelectedContext, *, where: str) -> _Draft:
    """Cluster and credential settings of a kubeconfig context; files are read, exec plugins are not run yet."""
    cluster, user = selected.cluster, selected.user
    cluster_where = f"cluster {selected.cluster_name!r} in {where}"
    user_where = f"user {selected.user_name!r} in {where}"
    draft = _Draft(
        server=normalize_server_url(str(cluster["server"]), where=f"server of {cluster_where}"),
        namespace=selected.namespace,
        source=f"kubeconfig {where}, context {selected.name!r}",
        user_label=selected.user_name,
        verify_tls=not cluster.get("insecure-skip-tls-verify"),
        verify_origin=f"insecure-skip-tls-verify of {cluster_where}" if cluster.get("insecure-skip-tls-verify") else "",
        tls_server_name=cluster.get("tls-server-name") or None,
        proxy=cluster.get("proxy-url") or None,
        exec_cluster=cluster,
    )
    ca_data, ca_origin = _pem(cluster, "certificate-authority", cluster_where)
    if ca_data:
        draft.ca_data, draft.ca_origin = ca_data, ca_origin
    _apply_user_entry(draft, user, user_where)
    return draft


def _apply_user_entry(draft: _Draft, user: Mapping[str, Any], where: str) -> None:
    draft.written_secrets += [str(user[key]) for key in ("token", "password", "client-key-data") if user.get(key)]
    if user.get("token"):
        draft.token = str(user["token"]).strip()
    elif user.get("tokenFile"):
        draft.token = _read_text(str(user["tokenFile"]), f"tokenFile of {where}", "fix the path or log in again")
        draft.token = draft.token.strip()
    if user.get("username") is not None or user.get("password") is not None:
        if draft.token:
            raise KubeAuthConfigError(f"{where} sets both a token and username/password; keep one of them")
        draft.username = str(user.get("username") or "")
        draft.password = str(user.get("password") or "")
    draft.client_cert_data = _pem(user, "client-certificate", where)[0]
    draft.client_key_data = _pem(user, "client-key", where)[0]
    if bool(draft.client_cert_data) != bool(draft.client_key_data):
        raise KubeAuthConfigError(f"{where} has a client certificate without its key, or a key without its certificate")
    if user.get("exec"):
        from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import (  # noqa: PLC0415 - compiled only when needed
            parse_exec_plugin,
        )

        draft.exec_plugin = parse_exec_plugin(user["exec"], where=where)
    provider = user.get("auth-provider")
    if provider and not (draft.token or draft.client_cert_data or draft.exec_plugin or draft.username is not None):
        name = provider.get("name", "?") if isinstance(provider, dict) else "?"
        raise KubeAuthConfigError(
            f"{where} uses auth-provider {name!r}, which this collection does not support; "
            "use an exec credential plugin (e.g. kubelogin) or a token from 'oc login'"
        )
    if user.get("as"):
        draft.impersonate_user = str(user["as"])
    if user.get("as-groups"):
        draft.impersonate_groups = tuple(str(group) for group in user["as-groups"])


# ---------------------------------------------------------------------------------------------------------------
# In-cluster service account


def in_cluster_available(environ: Mapping[str, str], service_account_dir: str) -> bool:
    return bool(
        environ.get("KUBERNETES_SERVICE_HOST")
        and environ.get("KUBERNETES_SERVICE_PORT")
        and os.path.exists(os.path.join(service_account_dir, "token"))
    )


def draft_in_cluster(environ: Mapping[str, str], service_account_dir: str) -> _Draft:
    host = environ["KUBERNETES_SERVICE_HOST"]
    port = environ["KUBERNETES_SERVICE_PORT"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    directory = Path(service_account_dir)
    token_path = directory / "token"
    draft = _Draft(
        server=normalize_server_url(f"https://{host}:{port}", where="KUBERNETES_SERVICE_HOST/PORT"),
        source=f"in-cluster service account ({service_account_dir})",
        user_label="the pod's service account",
    )
    draft.token = _read_text(str(token_path), "service account token", "check the pod's automountServiceAccountToken")
    draft.token = draft.token.strip()
    ca_path = directory / "ca.crt"
    if ca_path.exists():
        draft.ca_data = _read_text(str(ca_path), "service account CA", "check the pod's service account mount")
        draft.ca_origin = f"CA file {ca_path}"
    namespace = environ.get("POD_NAMESPACE")
    if not namespace:
        try:
            namespace = (directory / "namespace").read_text(encoding="utf-8").strip()
        except OSError:
            namespace = None
    draft.namespace = namespace or None
    return draft


# ---------------------------------------------------------------------------------------------------------------
# Putting it together


def resolve_cluster_config(
    params: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    service_account_dir: str = SERVICE_ACCOUNT_DIR,
    now: datetime | None = None,
) -> ClusterConfig:
    """Resolve where to connect and how to authenticate.

    Order: explicit options (and ``K8S_AUTH_*``); then the ``kubeconfig`` option, ``KUBECONFIG`` or
    ``~/.kube/config``; then the in-cluster service account. Options override what a kubeconfig says; given
    credentials replace the kubeconfig user's credentials entirely.
    """
    environ = os.environ if environ is None else environ
    options = parse_connection_options(params, environ)
    now = now or datetime.now(UTC)
    looked_at: list[str] = []

    draft: _Draft | None = None
    wants_kubeconfig = options.kubeconfig is not None or options.context is not None
    if not wants_kubeconfig and options.host and options.has_credentials:
        draft = _Draft(server=normalize_server_url(options.host, where="host"))
    else:
        draft = _draft_from_kubeconfig(options, environ, looked_at, required=wants_kubeconfig)
        if draft is None:
            if in_cluster_available(environ, service_account_dir):
                draft = draft_in_cluster(environ, service_account_dir)
            else:
                looked_at.append(
                    f"the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT and {service_account_dir}/token)"
                )
                if options.host:
                    draft = _Draft(server=normalize_server_url(options.host, where="host"))
        if draft is None:
            raise KubeAuthConfigError(
                "no cluster configuration found; looked at "
                + "; ".join(looked_at)
                + ". Log in with 'oc login', set the kubeconfig option (or K8S_AUTH_KUBECONFIG), "
                "or set host with api_key"
            )

    _apply_options(draft, options)
    if draft.exec_plugin is not None:
        from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import (  # noqa: PLC0415 - compiled only when needed
            run_exec_plugin,
        )

        credential = run_exec_plugin(
            draft.exec_plugin, draft.exec_cluster, environ, where=f"user {draft.user_label!r}", now=now
        )
        # client-go lets the plugin's answer take over from static credentials of the same user.
        if credential.token:
            draft.token = credential.token
        if credential.client_certificate_data:
            draft.client_cert_data = credential.client_certificate_data
            draft.client_key_data = credential.client_key_data
        draft.token_expires_at = credential.expires_at
        plugin, cluster, user_where = draft.exec_plugin, draft.exec_cluster, f"user {draft.user_label!r}"
        refresh = functools.partial(_run_exec_plugin_now, plugin, cluster, dict(environ), where=user_where)
    else:
        refresh = None
    if draft.impersonate_groups and not draft.impersonate_user:
        raise InvalidInputError("impersonate_groups needs impersonate_user: the API server only accepts both together")
    return ClusterConfig(
        server=draft.server,
        namespace=draft.namespace or "default",
        verify_tls=draft.verify_tls,
        ca_data=draft.ca_data,
        ca_origin=draft.ca_origin,
        tls_server_name=draft.tls_server_name,
        token=draft.token,
        username=draft.username,
        password=draft.password,
        client_cert_data=draft.client_cert_data,
        client_key_data=draft.client_key_data,
        proxy=draft.proxy,
        no_proxy=options.no_proxy,
        impersonate_user=draft.impersonate_user,
        impersonate_groups=draft.impersonate_groups,
        request_timeout=options.request_timeout,
        source=_describe_source(draft),
        user_label=draft.user_label,
        token_expires_at=draft.token_expires_at,
        warnings=transport_warnings(draft),
        written_secrets=tuple(draft.written_secrets),
        refresh_credentials=refresh,
    )


def transport_warnings(draft: _Draft) -> tuple[str, ...]:
    """What a task should warn about its connection: no one can tell the real API server from an impostor when
    verification is off, and plain HTTP carries the credentials unencrypted."""
    has_credentials = bool(draft.token or draft.username is not None or draft.client_cert_data or draft.exec_plugin)
    if urlsplit(draft.server).scheme == "http":
        if not has_credentials:
            return ()
        return (
            f"the API server {draft.server} is plain HTTP: the credentials of {draft.user_label or 'the user'} cross "
            "the network unencrypted. Use the server's https:// URL",
        )
    if draft.verify_tls:
        return ()
    return (
        f"TLS certificate verification of the API server {draft.server} is off ({draft.verify_origin or 'insecure'}): "
        "anyone on the network path can pose as the server and receive the credentials this task sends. Set ca_cert "
        "to the CA that signed the API server's certificate (as in 'oc config view --raw') instead",
    )


def _run_exec_plugin_now(
    plugin: ExecPlugin, cluster: Mapping[str, Any], environ: Mapping[str, str], *, where: str
) -> ExecCredential:
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import (  # noqa: PLC0415 - compiled only when needed
        run_exec_plugin,
    )

    return run_exec_plugin(plugin, cluster, environ, where=where, now=datetime.now(UTC))


def _draft_from_kubeconfig(
    options: ConnectionOptions, environ: Mapping[str, str], looked_at: list[str], *, required: bool
) -> _Draft | None:
    if isinstance(options.kubeconfig, dict):
        documents: list[tuple[str | None, Mapping[str, Any]]] = [(None, options.kubeconfig)]
        where = "the kubeconfig dictionary"
    else:
        paths, explicit = kubeconfig_paths(options.kubeconfig, environ)
        documents = list(read_kubeconfig_files(paths, explicit=explicit))
        origin = "the kubeconfig option" if explicit else "KUBECONFIG" if environ.get("KUBECONFIG") else "default"
        looked_at.append(f"kubeconfig {', '.join(paths)} ({origin})")
        where = ", ".join(str(document[0]) for document in documents) or ", ".join(paths)
    merged = merge_kubeconfigs(documents)
    if not documents or not (merged["contexts"] or merged["clusters"]):
        if required:
            raise KubeAuthConfigError(
                f"no kubeconfig with contexts found (looked at {'; '.join(looked_at) or where}); "
                "log in with 'oc login' or point the kubeconfig option at a kubeconfig file"
            )
        return None
    selected = select_context(merged, options.context, where=where)
    return draft_from_context(selected, where=where)


def _describe_source(draft: _Draft) -> str:
    if draft.overridden and draft.source != "module options":
        return f"{draft.source} (overridden by the module options: {', '.join(draft.overridden)})"
    return draft.source


def _apply_options(draft: _Draft, options: ConnectionOptions) -> None:
    """Explicit options win over the kubeconfig or in-cluster values, as kubectl's flags do."""
    if options.host:
        server = normalize_server_url(options.host, where="host")
        if server != draft.server:
            draft.tls_server_name = None  # it named the kubeconfig's server
        draft.server = server
        draft.overridden.append("host")
    if options.ca_cert:
        draft.ca_data = _read_text(options.ca_cert, "ca_cert", "fix the ca_cert option (or K8S_AUTH_SSL_CA_CERT)")
        draft.ca_origin = f"ca_cert {options.ca_cert}"
        draft.verify_tls = True
        draft.verify_origin = ""
        draft.overridden.append("ca_cert")
    if options.validate_certs is not None:
        draft.verify_tls = options.validate_certs
        draft.verify_origin = "" if options.validate_certs else VALIDATE_CERTS_OFF
        draft.overridden.append("validate_certs")
    if options.proxy:
        draft.proxy = options.proxy
        draft.overridden.append("proxy")
    if options.has_credentials:
        draft.token = options.api_key
        draft.username = options.username
        draft.password = options.password
        draft.client_cert_data = draft.client_key_data = None
        draft.exec_plugin = None
        if options.client_cert and options.client_key:
            draft.client_cert_data = _read_text(options.client_cert, "client_cert", "fix the client_cert option")
            draft.client_key_data = _read_text(options.client_key, "client_key", "fix the client_key option")
        draft.user_label = options.username or ("the api_key" if options.api_key else "the client certificate")
        draft.overridden.append("credentials")
    if options.impersonate_user:
        draft.impersonate_user = options.impersonate_user
    if options.impersonate_groups is not None:
        draft.impersonate_groups = options.impersonate_groups
