# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exec credential plugins (kubeconfig ``users[].user.exec``): parse the entry, run the plugin, check its answer.

Imported by ``_kube/kubeconfig`` only when a kubeconfig user has an exec entry, so other module runs do not compile it.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import redacted_repr

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
# An exec plugin may open a browser or talk to a cloud API; give it time, but never hang a play forever.
EXEC_TIMEOUT_SECONDS = 120.0
_STDERR_TAIL = 400


class ExecPlugin(NamedTuple):
    """A kubeconfig ``users[].user.exec`` entry, relative command paths already resolved."""

    command: str
    api_version: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    install_hint: str = ""
    provide_cluster_info: bool = False
    interactive_mode: str = ""


class ExecCredential(NamedTuple):
    """What an exec plugin returned (``ExecCredential.status``)."""

    token: str | None = None
    client_certificate_data: str | None = None
    client_key_data: str | None = None
    expires_at: datetime | None = None

    def __repr__(self) -> str:
        return redacted_repr(self, ("token", "client_key_data"))


def parse_exec_plugin(spec: Any, *, where: str) -> ExecPlugin:
    if not isinstance(spec, dict) or not spec.get("command"):
        raise KubeAuthConfigError(f"exec plugin of {where} has no command")
    api_version = str(spec.get("apiVersion") or "")
    if api_version not in EXEC_API_VERSIONS:
        raise KubeAuthConfigError(
            f"exec plugin of {where} uses apiVersion {api_version!r}; supported: {', '.join(EXEC_API_VERSIONS)}"
        )
    env: list[tuple[str, str]] = []
    for item in spec.get("env") or []:
        if not isinstance(item, dict) or "name" not in item:
            raise KubeAuthConfigError(f"exec plugin of {where}: every env entry needs a name and a value")
        env.append((str(item["name"]), str(item.get("value", ""))))
    mode = str(spec.get("interactiveMode") or "")
    if mode == "Always":
        raise KubeAuthConfigError(
            f"exec plugin of {where} needs a terminal (interactiveMode: Always), which an Ansible task does not "
            "have; log in beforehand or configure the plugin for non-interactive use"
        )
    return ExecPlugin(
        command=str(spec["command"]),
        api_version=api_version,
        args=tuple(str(arg) for arg in spec.get("args") or []),
        env=tuple(env),
        install_hint=str(spec.get("installHint") or ""),
        provide_cluster_info=bool(spec.get("provideClusterInfo")),
        interactive_mode=mode,
    )


def exec_info(plugin: ExecPlugin, cluster: Mapping[str, Any]) -> str:
    """The ``KUBERNETES_EXEC_INFO`` document handed to the plugin."""
    spec: dict[str, Any] = {"interactive": False}
    if plugin.provide_cluster_info:
        info: dict[str, Any] = {"server": cluster.get("server", "")}
        for name in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url", "disable-compression"):
            if cluster.get(name):
                info[name] = cluster[name]
        if cluster.get("certificate-authority-data"):
            info["certificate-authority-data"] = cluster["certificate-authority-data"]
        elif cluster.get("certificate-authority"):
            try:
                pem = Path(str(cluster["certificate-authority"])).read_bytes()
                info["certificate-authority-data"] = base64.b64encode(pem).decode("ascii")
            except OSError:
                pass
        extension = _exec_extension(cluster)
        if extension is not None:
            info["config"] = extension
        spec["cluster"] = info
    return json.dumps({"apiVersion": plugin.api_version, "kind": "ExecCredential", "spec": spec})


def _exec_extension(cluster: Mapping[str, Any]) -> Any:
    for item in cluster.get("extensions") or []:
        if isinstance(item, dict) and item.get("name") == "client.authentication.k8s.io/exec":
            return item.get("extension")
    return None


def parse_exec_credential(output: str, *, api_version: str, now: datetime, where: str) -> ExecCredential:
    """Validate an exec plugin's stdout; never quotes the output, which holds the credential."""
    try:
        document = json.loads(output)
    except ValueError:
        raise KubeAuthConfigError(f"exec plugin of {where} did not print a JSON ExecCredential") from None
    if not isinstance(document, dict) or document.get("kind") != "ExecCredential":
        raise KubeAuthConfigError(f"exec plugin of {where} printed JSON that is not an ExecCredential")
    if document.get("apiVersion") != api_version:
        raise KubeAuthConfigError(
            f"exec plugin of {where} is configured for {api_version} but answered with apiVersion "
            f"{document.get('apiVersion')!r}; align the kubeconfig's exec.apiVersion with the plugin"
        )
    status = document.get("status")
    if not isinstance(status, dict):
        raise KubeAuthConfigError(f"exec plugin of {where} returned an ExecCredential without status")
    token = status.get("token") or None
    cert = status.get("clientCertificateData") or None
    key = status.get("clientKeyData") or None
    for name, value in (("token", token), ("clientCertificateData", cert), ("clientKeyData", key)):
        if value is not None and not isinstance(value, str):
            raise KubeAuthConfigError(f"exec plugin of {where} returned a status.{name} that is not a string")
    if bool(cert) != bool(key):
        raise KubeAuthConfigError(
            f"exec plugin of {where} returned only one of clientCertificateData and clientKeyData; both are needed"
        )
    if not token and not cert:
        raise KubeAuthConfigError(f"exec plugin of {where} returned neither a token nor a client certificate and key")
    expires_at = None
    stamp = status.get("expirationTimestamp")
    if stamp:
        try:
            expires_at = datetime.fromisoformat(str(stamp))
        except ValueError:
            raise KubeAuthConfigError(
                f"exec plugin of {where} returned expirationTimestamp {stamp!r}, which is not RFC 3339"
            ) from None
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= now:
            raise KubeAuthConfigError(
                f"exec plugin of {where} returned a credential that expired at {expires_at.isoformat()}; "
                "log in again with the plugin's own command"
            )
    return ExecCredential(token=token, client_certificate_data=cert, client_key_data=key, expires_at=expires_at)


def run_exec_plugin(
    plugin: ExecPlugin,
    cluster: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    where: str,
    now: datetime | None = None,
    timeout: float = EXEC_TIMEOUT_SECONDS,
) -> ExecCredential:
    """Run the plugin once, without a terminal, and parse what it printed; the credential must not have expired
    at ``now`` (by default when the plugin is started)."""
    now = now or datetime.now(UTC)
    env = dict(environ)
    env.update(plugin.env)
    env["KUBERNETES_EXEC_INFO"] = exec_info(plugin, cluster)
    hint = f" ({plugin.install_hint.strip()})" if plugin.install_hint.strip() else ""
    try:
        completed = subprocess.run(
            [plugin.command, *plugin.args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise KubeAuthConfigError(
            f"exec plugin command {plugin.command!r} of {where} was not found; install it or fix the path{hint}"
        ) from None
    except PermissionError:
        raise KubeAuthConfigError(f"exec plugin command {plugin.command!r} of {where} is not executable") from None
    except subprocess.TimeoutExpired:
        raise KubeAuthConfigError(
            f"exec plugin command {plugin.command!r} of {where} did not finish within {timeout:g} s; "
            "it may be waiting for input, so log in with it beforehand"
        ) from None
    if completed.returncode != 0:
        stderr = completed.stderr.strip()
        tail = f": {stderr[-_STDERR_TAIL:]}" if stderr else ""
        raise KubeAuthConfigError(
            f"exec plugin command {plugin.command!r} of {where} failed with exit code {completed.returncode}{tail}"
        )
    return parse_exec_credential(completed.stdout, api_version=plugin.api_version, now=now, where=where)
