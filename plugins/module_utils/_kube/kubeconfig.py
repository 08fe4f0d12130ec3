# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubeconfig files as kubectl reads them: which files (the ``kubeconfig`` option, ``KUBECONFIG``, ``~/.kube/config``),
parsing, merging the way kubectl merges them, selecting a context, and what that context says.

YAML is read by ``_kube/yaml_subset``, then PyYAML, and exec plugins by ``_kube/exec_credential``, each imported only
when a kubeconfig needs it: a module run compiles its module_utils from source, so unused code still costs it time.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import (
    ClusterConfig,
    normalize_server_url,
    read_named_file,
)


class SelectedContext(NamedTuple):
    """One kubeconfig context with its cluster and user entries (plain kubeconfig dicts)."""

    name: str
    cluster_name: str
    cluster: dict[str, Any]
    user_name: str
    user: dict[str, Any]
    namespace: str | None


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


def _pem(entry: Mapping[str, Any], name: str, where: str) -> tuple[str | None, str]:
    """``<name>-data`` (base64) wins over the file ``<name>``, as in client-go; returns the PEM and its origin."""
    if entry.get(f"{name}-data"):
        origin = f"{name}-data of {where}"
        return _decode_data(entry[f"{name}-data"], origin), origin
    if entry.get(name):
        path = str(entry[name])
        return read_named_file(path, f"{name} of {where}", "fix the path in the kubeconfig"), f"file {path}"
    return None, ""


def config_from_kubeconfig(
    kubeconfig: str | dict[str, Any] | None,
    context: str | None,
    environ: Mapping[str, str],
    looked_at: list[str],
    *,
    required: bool,
) -> ClusterConfig | None:
    """The configuration of the ``context`` (else ``current-context``) of the kubeconfig dictionary or files; None
    when they hold no context or cluster and none was ``required``. Adds the files it looked at to ``looked_at``."""
    if isinstance(kubeconfig, dict):
        documents: list[tuple[str | None, Mapping[str, Any]]] = [(None, kubeconfig)]
        where = "the kubeconfig dictionary"
    else:
        paths, explicit = kubeconfig_paths(kubeconfig, environ)
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
    return config_from_context(select_context(merged, context, where=where), environ, where=where)


def config_from_context(selected: SelectedContext, environ: Mapping[str, str], *, where: str) -> ClusterConfig:
    """What a kubeconfig context says: its cluster's settings and its user's credentials. The files they name are
    read; an exec plugin is not run yet: it becomes ``refresh_credentials``."""
    cluster = selected.cluster
    cluster_where = f"cluster {selected.cluster_name!r} in {where}"
    server = normalize_server_url(str(cluster["server"]), where=f"server of {cluster_where}")
    ca_data, ca_origin = _pem(cluster, "certificate-authority", cluster_where)
    # without a CA of its own, the system trust store (ClusterConfig's default)
    trust: dict[str, Any] = {"ca_data": ca_data, "ca_origin": ca_origin} if ca_data else {}
    insecure = bool(cluster.get("insecure-skip-tls-verify"))
    config = ClusterConfig(
        server=server,
        namespace=selected.namespace or "default",
        verify_tls=not insecure,
        verify_origin=f"insecure-skip-tls-verify of {cluster_where}" if insecure else "",
        tls_server_name=cluster.get("tls-server-name") or None,
        proxy=cluster.get("proxy-url") or None,
        source=f"kubeconfig {where}, context {selected.name!r}",
        user_label=selected.user_name,
        **trust,
    )
    return _with_user_credentials(config, selected, environ, where=f"user {selected.user_name!r} in {where}")


def _with_user_credentials(
    config: ClusterConfig, selected: SelectedContext, environ: Mapping[str, str], *, where: str
) -> ClusterConfig:
    user = selected.user
    token = None
    if user.get("token"):
        token = str(user["token"]).strip()
    elif user.get("tokenFile"):
        token = read_named_file(str(user["tokenFile"]), f"tokenFile of {where}", "fix the path or log in again").strip()
    username = password = None
    if user.get("username") is not None or user.get("password") is not None:
        if token:
            raise KubeAuthConfigError(f"{where} sets both a token and username/password; keep one of them")
        username, password = str(user.get("username") or ""), str(user.get("password") or "")
    client_cert_data = _pem(user, "client-certificate", where)[0]
    client_key_data = _pem(user, "client-key", where)[0]
    if bool(client_cert_data) != bool(client_key_data):
        raise KubeAuthConfigError(f"{where} has a client certificate without its key, or a key without its certificate")
    run_plugin = None
    if user.get("exec"):
        from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import (  # noqa: PLC0415 - compiled only when needed
            parse_exec_plugin,
            run_exec_plugin,
        )

        plugin = parse_exec_plugin(user["exec"], where=where)
        # a copy of the environment, so that a refresh later in the task runs the plugin as its first run does
        run_plugin = functools.partial(
            run_exec_plugin, plugin, selected.cluster, dict(environ), where=f"user {selected.user_name!r}"
        )
    provider = user.get("auth-provider")
    if provider and not (token or client_cert_data or run_plugin or username is not None):
        name = provider.get("name", "?") if isinstance(provider, dict) else "?"
        raise KubeAuthConfigError(
            f"{where} uses auth-provider {name!r}, which this collection does not support; "
            "use an exec credential plugin (e.g. kubelogin) or a token from 'oc login'"
        )
    return config._replace(
        token=token,
        username=username,
        password=password,
        client_cert_data=client_cert_data,
        client_key_data=client_key_data,
        impersonate_user=str(user["as"]) if user.get("as") else None,
        impersonate_groups=tuple(str(group) for group in user["as-groups"]) if user.get("as-groups") else (),
        written_secrets=tuple(str(user[key]) for key in ("token", "password", "client-key-data") if user.get(key)),
        refresh_credentials=run_plugin,
    )
