# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-side tools for the sandbox cluster: an admin API client independent of the collection's code, runners for
modules and playbooks, the audit log reader, and stand-ins for the OpenShift controllers the sandbox lacks.

The sandbox runs an image API server and controllers that behave as openshift-apiserver and
openshift-controller-manager do (ours, or the real ones with SANDBOX_OPENSHIFT_BIN): imports, tag tracking, the
service accounts' ``<sa>-dockercfg-*`` secrets are theirs. What cannot run here is played: the MCO
(``mco_stand_in.MachineConfigOperator``), which needs nodes.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import fnmatch
import functools
import http.client
import importlib
import json
import os
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

try:
    from .leak_scan import LEAKS
except ImportError:  # imported as a top-level module by the launcher and the benchmarks
    from leak_scan import LEAKS  # type: ignore[no-redef]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ENV_FILE = REPO_ROOT / ".sandbox" / "env.sh"
COLLECTIONS_ROOT = REPO_ROOT / ".build" / "collections"
MODULES_DIR = REPO_ROOT / "plugins" / "modules"
IN_PROCESS_RUNNER = Path(__file__).resolve().parent / "in_process_runner.py"
# The two ways a task runs: the module shipped as usual, or its core in the controller's process (action plugin).
EXECUTION_PATHS = ("module", "in_process")

# What OpenShift's integrated registry calls itself in image stream status (the sandbox has no such registry).
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
IMAGESTREAMS = "/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams"
MCP_PATH = "/apis/machineconfiguration.openshift.io/v1/machineconfigpools"
PULL_SECRET_PATH = "/api/v1/namespaces/openshift-config/secrets/pull-secret"
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
SYSTEM_USERS = frozenset(
    {
        "system:kube-controller-manager",
        "system:apiserver",
        "system:kube-scheduler",
        "system:openshift-apiserver",
        "system:openshift-controller-manager",
    }
)
# openshift-controller-manager runs each controller as a service account of openshift-infra.
SYSTEM_SERVICE_ACCOUNT_PREFIXES = ("system:serviceaccount:kube-system:", "system:serviceaccount:openshift-infra:")

_ENV_KEYS = {
    "kubeconfig": "KUBECONFIG",
    "user_kubeconfig": "SANDBOX_USER_KUBECONFIG",
    "api": "SANDBOX_API",
    "ca": "SANDBOX_CA",
    "registry": "SANDBOX_REGISTRY",
    "registry_ca": "SANDBOX_REGISTRY_CA",
    "registry_user": "SANDBOX_REGISTRY_USER",
    "registry_password": "SANDBOX_REGISTRY_PASSWORD",
    "token_registry": "SANDBOX_TOKEN_REGISTRY",
}


class SandboxUnavailableError(RuntimeError):
    """The sandbox is not up (no env file, or the API server does not answer)."""


class KubeTestError(RuntimeError):
    """An API request answered with an error status; ``status`` is the HTTP code, ``body`` the decoded answer."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.method = method
        self.path = path
        self.status = status
        self.body = body


class ModuleCrashError(AssertionError):
    """A module printed no JSON result (a traceback, a syntax error): never an expected failure."""


# --------------------------------------------------------------------------------------------------------------------
# The sandbox's coordinates


@dataclass(frozen=True)
class Sandbox:
    """What `.sandbox/env.sh` exports, as attributes; ``env`` holds every variable of the file."""

    kubeconfig: str
    user_kubeconfig: str
    api: str
    ca: str
    registry: str
    registry_ca: str
    registry_user: str
    registry_password: str = field(repr=False)
    token_registry: str
    env: dict[str, str] = field(repr=False)
    state_dir: str = ""  # the directory of env.sh (`.sandbox/`): logs/, pki/, ...

    @property
    def registry_ca_dir(self) -> str:
        """A directory holding only the registry CA as ``ca.crt``: what skopeo's ``--cert-dir`` wants."""
        return str(Path(self.registry_ca).parent)


def runs_real_openshift(sandbox: Sandbox) -> bool:
    """Whether the sandbox runs real OpenShift binaries (SANDBOX_OPENSHIFT_BIN) rather than its own servers."""
    try:
        state = json.loads((Path(sandbox.state_dir) / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(state.get("openshift_real"))


def parse_env_file(text: str) -> dict[str, str]:
    """Read the ``export KEY=value`` lines (shell-quoted) the launcher writes (``PATH`` with ``$PATH`` expanded)."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _sep, value = words[1].partition("=")
            # PATH is written as `<sandbox bin>:"$PATH"`: the one value that refers to the current environment.
            env[key] = value.replace("$PATH", os.environ.get("PATH", "")) if key == "PATH" else value
    return env


def load_sandbox(env_file: str | os.PathLike[str] | None = None) -> Sandbox:
    """The running sandbox's coordinates, from ``SANDBOX_ENV_FILE``, ``$SANDBOX_STATE_DIR/env.sh`` or
    `.sandbox/env.sh` (never the caller's own KUBECONFIG: tests must not reach a real cluster by accident)."""
    state_dir = os.environ.get("SANDBOX_STATE_DIR")
    path = Path(
        env_file
        or os.environ.get("SANDBOX_ENV_FILE")
        or (Path(state_dir) / "env.sh" if state_dir else DEFAULT_ENV_FILE)
    )
    if not path.is_file():
        raise SandboxUnavailableError(
            f"{path} does not exist: the sandbox cluster is not up. Run `make sandbox-up` (or run the tests through "
            "`make test-integration`, which starts it)."
        )
    env = parse_env_file(path.read_text(encoding="utf-8"))
    missing = [key for key in (*_ENV_KEYS.values(), "K8S_AUTH_KUBECONFIG") if key not in env]
    if missing:
        raise SandboxUnavailableError(f"{path} lacks {', '.join(missing)}; run `make sandbox-down sandbox-up`.")
    return Sandbox(**{attr: env[key] for attr, key in _ENV_KEYS.items()}, env=env, state_dir=str(path.parent))


# --------------------------------------------------------------------------------------------------------------------
# Admin API client (standard library only, deliberately independent of plugins/module_utils)

_TEMP_DIRS: list[str] = []


def _cleanup_temp_dirs() -> None:
    for directory in _TEMP_DIRS:
        shutil.rmtree(directory, ignore_errors=True)


atexit.register(_cleanup_temp_dirs)


@dataclass(frozen=True)
class KubeconfigCredentials:
    server: str
    ca_data: bytes
    token: str | None = field(default=None, repr=False)
    cert_data: bytes | None = field(default=None, repr=False)
    key_data: bytes | None = field(default=None, repr=False)
    namespace: str = "default"


def read_kubeconfig(path: str | os.PathLike[str]) -> KubeconfigCredentials:
    """The current context's server, CA and credentials (inline data, as the sandbox writes them)."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])

    def data(key: str) -> bytes | None:
        value = user.get(key)
        return base64.b64decode(value) if value else None

    return KubeconfigCredentials(
        server=cluster["server"],
        ca_data=base64.b64decode(cluster["certificate-authority-data"]),
        token=user.get("token"),
        cert_data=data("client-certificate-data"),
        key_data=data("client-key-data"),
        namespace=context.get("namespace", "default"),
    )


class Kube:
    """A tiny API client for assertions and for playing controllers: JSON in, JSON out, errors as KubeTestError.

    One connection per request, so threads (the controller stand-ins) can share an instance.
    """

    def __init__(self, kubeconfig: str | os.PathLike[str], *, user_agent: str = "sandbox-tests") -> None:
        creds = read_kubeconfig(kubeconfig)
        url = urllib.parse.urlsplit(creds.server)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 443
        self.user_agent = user_agent
        self.username_token = creds.token
        self._context = ssl.create_default_context(cadata=creds.ca_data.decode("ascii"))
        if creds.cert_data and creds.key_data:
            directory = tempfile.mkdtemp(prefix="sandbox-kube-")
            _TEMP_DIRS.append(directory)
            cert, key = Path(directory, "client.crt"), Path(directory, "client.key")
            cert.write_bytes(creds.cert_data)
            key.touch(mode=0o600)
            key.write_bytes(creds.key_data)
            self._context.load_cert_chain(cert, key)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Any:
        """Send one request; returns the decoded JSON answer (text when it is not JSON)."""
        status, decoded = self.send(method, path, body, content_type=content_type, headers=headers, timeout=timeout)
        if status >= 400:
            raise KubeTestError(method, path, status, decoded)
        return decoded

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """Send one request; returns the status code and the decoded answer, whatever the status."""
        connection = http.client.HTTPSConnection(self.host, self.port, context=self._context, timeout=timeout)
        all_headers = {"Accept": "application/json", "User-Agent": self.user_agent, **(headers or {})}
        if self.username_token:
            all_headers["Authorization"] = f"Bearer {self.username_token}"
        payload = None
        if isinstance(body, Mapping) and body.get("kind") == "Secret":
            LEAKS.add_secrets_from(body.get("data") or {})
            LEAKS.add_secrets_from(body.get("stringData") or {})
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode("utf-8", "replace")
        return response.status, decoded

    def get(self, path: str) -> Any:
        """The object at ``path``, or None when it does not exist."""
        try:
            return self.request("GET", path)
        except KubeTestError as error:
            if error.status == 404:
                return None
            raise

    def create(self, path: str, body: Any) -> Any:
        """POST ``body`` to the collection ``path``."""
        return self.request("POST", path, body)

    def replace(self, path: str, body: Any) -> Any:
        """PUT ``body`` (carry metadata.resourceVersion for optimistic concurrency)."""
        return self.request("PUT", path, body)

    def patch(self, path: str, body: Any) -> Any:
        """A JSON merge patch."""
        return self.request("PATCH", path, body, content_type="application/merge-patch+json")

    def delete(self, path: str) -> Any:
        """DELETE; None when the object was already gone."""
        try:
            return self.request("DELETE", path)
        except KubeTestError as error:
            if error.status == 404:
                return None
            raise

    def update_with_retry(self, path: str, change: Callable[[dict[str, Any]], bool], *, attempts: int = 10) -> Any:
        """GET, let ``change`` edit the object in place (it returns False for "nothing to do"), PUT; retry on 409."""
        for _attempt in range(attempts):
            current = self.request("GET", path)
            if not change(current):
                return current
            try:
                return self.replace(path, current)
            except KubeTestError as error:
                if error.status != 409:
                    raise
        raise KubeTestError("PUT", path, 409, f"still conflicting after {attempts} attempts")

    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2, what: str) -> Any:
        """Poll ``predicate`` until it returns something truthy; AssertionError naming ``what`` on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(interval)


# --------------------------------------------------------------------------------------------------------------------
# Running the collection's modules and playbooks


def _subprocess_env(
    sandbox: Sandbox, *, kubeconfig: str | None, extra: Mapping[str, str | None] | None
) -> dict[str, str]:
    """The environment of a module or playbook run: the sandbox's, with ``extra`` on top (``None`` removes)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("K8S_AUTH_") and key != "KUBECONFIG"}
    env.update(sandbox.env)
    if kubeconfig is not None:
        env["KUBECONFIG"] = env["K8S_AUTH_KUBECONFIG"] = kubeconfig
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(COLLECTIONS_ROOT), env.get("PYTHONPATH")]))
    env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS_ROOT)
    env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "false"
    env["ANSIBLE_NOCOLOR"] = "1"
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class ModuleRunner:
    """``run_module(name, params, check=False, diff=False, kubeconfig=None, env=None) -> dict``.

    On the ``module`` path, runs ``plugins/modules/<name>.py`` directly (as AnsiballZ would, minus the zip); on the
    ``in_process`` path, runs the module's core as its action plugin does in the controller's process
    (``in_process_runner.py``). Either way in a new process, returning the JSON result. ``last`` keeps the
    CompletedProcess of the latest run, to assert that a secret never reaches stdout/stderr.
    """

    def __init__(self, sandbox: Sandbox, *, timeout: float = 300.0, path: str = "module") -> None:
        if path not in EXECUTION_PATHS:
            raise ValueError(f"execution path {path!r} is not one of {EXECUTION_PATHS}")
        self.sandbox = sandbox
        self.timeout = timeout
        self.path = path
        self.last: subprocess.CompletedProcess[str] | None = None

    def __call__(
        self,
        name: str,
        params: Mapping[str, Any],
        *,
        check: bool = False,
        diff: bool | None = None,
        kubeconfig: str | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        module_path = MODULES_DIR / f"{name}.py"
        if not module_path.is_file():
            raise FileNotFoundError(f"no module {module_path}")
        _register_inputs(params)
        with tempfile.TemporaryDirectory(prefix=f"run-{name}-") as tmp:
            args = {
                "ANSIBLE_MODULE_ARGS": {
                    **params,
                    "_ansible_check_mode": check,
                    # diff mode unless a test asks for a run without it: the leak scan sees every diff
                    "_ansible_diff": True if diff is None else diff,
                    "_ansible_verbosity": 3,
                    "_ansible_tmpdir": tmp,
                    "_ansible_remote_tmp": tmp,
                    "_ansible_keep_remote_files": False,
                    "_ansible_module_name": name,
                }
            }
            args_file = Path(tmp, "args.json")
            args_file.touch(mode=0o600)
            args_file.write_text(json.dumps(args), encoding="utf-8")
            command = [sys.executable, str(module_path), str(args_file)]
            if self.path == "in_process":
                command = [sys.executable, str(IN_PROCESS_RUNNER), name, str(args_file)]
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=_subprocess_env(self.sandbox, kubeconfig=kubeconfig, extra=env),
                cwd=tmp,
                check=False,
            )
            label = f"module {name} ({self.path})"
            LEAKS.runs += 1
            LEAKS.record(f"{label}: stdout", completed.stdout)
            LEAKS.record(f"{label}: stderr", completed.stderr)
            LEAKS.record_new_files(label, Path(tmp), known={args_file}, backup_dirs=_backup_dirs(params))
        self.last = completed
        return parse_module_output(name, completed)


def parse_module_output(name: str, completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The module's JSON result (the last JSON object line of stdout); ModuleCrashError when there is none."""
    for raw_line in reversed(completed.stdout.strip().splitlines()):
        line = raw_line.strip()
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except ValueError:
                continue
            if isinstance(result, dict):
                return result
    raise ModuleCrashError(
        f"module {name} exited {completed.returncode} without a JSON result\n"
        f"--- stdout ---\n{completed.stdout[-4000:]}\n--- stderr ---\n{completed.stderr[-4000:]}"
    )


class PlaybookRunner:
    """``run_playbook(yaml_text, *, extra_vars=None, check=False, diff=False, verbosity=0, env=None)``.

    On the ``module`` path the in-process path is switched off (``OPENSHIFT_OPS_IMAGES_IN_PROCESS=false``), so
    every task of the collection ships its module; on ``in_process`` the action plugins run the cores here."""

    def __init__(self, sandbox: Sandbox, *, timeout: float = 900.0, path: str = "in_process") -> None:
        if path not in EXECUTION_PATHS:
            raise ValueError(f"execution path {path!r} is not one of {EXECUTION_PATHS}")
        self.sandbox = sandbox
        self.timeout = timeout
        self.path = path

    def __call__(
        self,
        yaml_text: str,
        *,
        extra_vars: Mapping[str, Any] | None = None,
        check: bool = False,
        diff: bool | None = None,
        verbosity: int = 3,
        env: Mapping[str, str | None] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        executable = Path(sys.executable).parent / "ansible-playbook"
        playbook_cmd = str(executable) if executable.exists() else (shutil.which("ansible-playbook") or "")
        with tempfile.TemporaryDirectory(prefix="run-playbook-") as tmp:
            playbook = Path(tmp, "playbook.yml")
            playbook.write_text(yaml_text, encoding="utf-8")
            command = [playbook_cmd, "-i", "localhost,", "-c", "local", str(playbook)]
            if extra_vars:
                vars_file = Path(tmp, "extra_vars.json")
                vars_file.touch(mode=0o600)
                vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
                command += ["-e", f"@{vars_file}"]
            if check:
                command.append("--check")
            if diff is None or diff:  # --diff unless a test asks for a run without it (the leak scan sees all)
                command.append("--diff")
            if verbosity:
                command.append("-" + "v" * verbosity)
            run_env = _subprocess_env(
                self.sandbox,
                kubeconfig=None,
                extra={
                    "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                    "ANSIBLE_RETRY_FILES_ENABLED": "false",
                    "ANSIBLE_LOCAL_TEMP": str(Path(tmp, "local")),
                    "ANSIBLE_REMOTE_TEMP": str(Path(tmp, "remote")),
                    "OPENSHIFT_OPS_IMAGES_IN_PROCESS": "false" if self.path == "module" else "",
                    **(env or {}),
                },
            )
            _register_inputs(extra_vars or {})
            with contextlib.suppress(yaml.YAMLError):
                _register_inputs(yaml.safe_load(yaml_text))
            known = set(Path(tmp).rglob("*"))
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=run_env,
                cwd=tmp,
                check=False,
            )
            LEAKS.runs += 1
            LEAKS.record(f"playbook ({self.path}): stdout", completed.stdout)
            LEAKS.record(f"playbook ({self.path}): stderr", completed.stderr)
            LEAKS.record_new_files(
                f"playbook ({self.path})", Path(tmp), known=known, backup_dirs=_backup_dirs(yaml_text, extra_vars)
            )
            return completed


def _register_inputs(value: Any) -> None:
    """Hand what a run is given to the leak scan: its secrets, and those of any auth file it names."""
    LEAKS.add_secrets_from(value)
    for path in _values_of(value, "auth_file"):
        LEAKS.add_file(path)


def _values_of(value: Any, key: str) -> list[str]:
    if isinstance(value, Mapping):
        found = [str(value[key])] if isinstance(value.get(key), str) else []
        return found + [item for child in value.values() for item in _values_of(child, key)]
    if isinstance(value, list | tuple):
        return [item for child in value for item in _values_of(child, key)]
    return []


def _backup_dirs(*values: Any) -> list[str]:
    """The directories a run keeps backups in (``backup_dir`` options, in options, a playbook or extra vars)."""
    found: list[str] = []
    for value in values:
        loaded = value
        if isinstance(value, str):
            try:
                loaded = yaml.safe_load(value)
            except yaml.YAMLError:
                continue
        found += _values_of(loaded, "backup_dir")
    return found


# --------------------------------------------------------------------------------------------------------------------
# The API server's audit log


@dataclass(frozen=True)
class AuditMark:
    offset: int


class AuditLog:
    """Reads `.sandbox/logs/audit.log` (Metadata-level events for every request except get/list/watch).

    Both ``mark()`` and ``writes()`` first send a sentinel request with a unique User-Agent and wait for it to appear
    in the log, so every request that finished before the call is in the file by then.
    """

    def __init__(self, path: str | os.PathLike[str], kube: Kube) -> None:
        self.path = Path(path)
        self.kube = kube

    def _flush(self, *, timeout: float = 15.0) -> int:
        """The log offset just after the sentinel's event."""
        marker = f"sandbox-audit-sentinel/{secrets.token_hex(8)}"
        # The sentinel's event lands after the current end: read only from there (the log grows large).
        start = self.path.stat().st_size if self.path.exists() else 0
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"nonResourceAttributes": {"path": "/sandbox-audit-sentinel", "verb": "get"}},
        }
        self.kube.request(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review, headers={"User-Agent": marker}
        )
        needle = marker.encode()
        deadline = time.monotonic() + timeout
        while True:
            with self.path.open("rb") as handle:
                handle.seek(start)
                data = handle.read()
            index = data.find(needle)
            if index >= 0:
                end = data.find(b"\n", index)
                return start + (len(data) if end < 0 else end + 1)
            if time.monotonic() > deadline:
                raise AssertionError(f"the audit sentinel never reached {self.path}; is audit logging on?")
            time.sleep(0.05)

    def mark(self) -> AuditMark:
        """A point in the log: ``writes(since=mark)`` returns only what came after it."""
        return AuditMark(self._flush())

    def events(self, *, since: AuditMark) -> list[dict[str, Any]]:
        """Every event logged after ``since``."""
        end = self._flush()
        with self.path.open("rb") as handle:
            handle.seek(since.offset)
            chunk = handle.read(end - since.offset)
        return [json.loads(line) for line in chunk.splitlines() if line.strip()]

    def writes(
        self,
        *,
        since: AuditMark,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
        include_dry_run: bool = False,
        include_system: bool = False,
    ) -> list[dict[str, Any]]:
        """create/update/patch/delete(collection) events after ``since``, optionally for one resource (plural, e.g.
        ``imagestreams``), namespace, object name or subresource (``status``).

        Left out unless asked for: server-side dry-run requests (``include_dry_run``; they change nothing) and the
        control plane's own background writes (``include_system``: kube-controller-manager creating the ``default``
        ServiceAccount or cleaning up a deleted namespace, the API server's loopback client). Writes by tests and
        by the controller stand-ins here (the admin user) are always counted."""
        found = []
        for event in self.events(since=since):
            ref = event.get("objectRef") or {}
            if event.get("verb") not in WRITE_VERBS or str(event.get("userAgent", "")).startswith(
                "sandbox-audit-sentinel/"
            ):
                continue
            if not include_system and _is_system_user(str((event.get("user") or {}).get("username", ""))):
                continue
            if resource is not None and ref.get("resource") != resource:
                continue
            if namespace is not None and ref.get("namespace") != namespace:
                continue
            if name is not None and ref.get("name") != name:
                continue
            if subresource is not None and ref.get("subresource") != subresource:
                continue
            if not include_dry_run and "dryRun=" in str(event.get("requestURI", "")):
                continue
            found.append(event)
        return found


def _is_system_user(username: str) -> bool:
    return username in SYSTEM_USERS or username.startswith(SYSTEM_SERVICE_ACCOUNT_PREFIXES)


# --------------------------------------------------------------------------------------------------------------------
# Playing OpenShift's controllers


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def imagestream_path(namespace: str, stream: str | None = None) -> str:
    base = IMAGESTREAMS.format(namespace=namespace)
    return base if stream is None else f"{base}/{stream}"


def spec_tag(kube: Kube, namespace: str, stream: str, tag: str) -> dict[str, Any] | None:
    """The stored ``spec.tags`` entry named ``tag`` of an image stream; None when the stream or the tag is missing."""
    current = kube.get(imagestream_path(namespace, stream)) or {}
    return next((entry for entry in (current.get("spec") or {}).get("tags") or [] if entry["name"] == tag), None)


class Images:
    """Images the way users get them into OpenShift: pushed to the sandbox registry (skopeo), then imported by the
    real openshift-apiserver with the namespace's pull secret (made with this collection's ``pull_secret``).

    ``import_tag`` is ``oc import-image <stream>:<tag> --from=<registry>/... --confirm``: a POST of an
    ImageStreamImport, which the server answers once it has read the registry."""

    PULL_SECRET = "sandbox-registry"

    def __init__(self, sandbox: Sandbox, kube: Kube, run_module: Any) -> None:
        self.sandbox = sandbox
        self.kube = kube
        self.run_module = run_module
        self._pull_secrets: set[str] = set()

    def push(self, repository: str, tag: str, *, text: str | None = None) -> str:
        """Push a one-layer image (new content unless ``text`` is given) as ``<registry>/<repository>:<tag>``;
        returns its manifest digest."""
        launcher = _launcher_module("sandbox")
        with tempfile.TemporaryDirectory(prefix="sandbox-image-") as work:
            layout = Path(work) / "layout"
            content = (text if text is not None else f"image {secrets.token_hex(8)}\n").encode()
            launcher.build_oci_layout(layout, tag=tag, text=content)
            authfile = registry_authfile(
                Path(work) / "auth.json",
                self.sandbox.registry,
                self.sandbox.registry_user,
                self.sandbox.registry_password,
            )
            digest_file = Path(work) / "digest"
            subprocess.run(
                [
                    "skopeo",
                    "copy",
                    "--quiet",
                    "--format=v2s2",
                    "--authfile",
                    authfile,
                    "--dest-cert-dir",
                    self.sandbox.registry_ca_dir,
                    "--digestfile",
                    str(digest_file),
                    f"oci:{layout}:{tag}",
                    f"docker://{self.sandbox.registry}/{repository}:{tag}",
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            return digest_file.read_text(encoding="utf-8").strip()

    def ensure_pull_secret(self, namespace: str) -> None:
        """The namespace's pull secret for the sandbox registry, which imports into it use."""
        if namespace in self._pull_secrets:
            return
        result = self.run_module(
            "pull_secret",
            {
                "name": self.PULL_SECRET,
                "namespace": namespace,
                "registries": [
                    {
                        "server": self.sandbox.registry,
                        "username": self.sandbox.registry_user,
                        "password": self.sandbox.registry_password,
                    }
                ],
            },
        )
        assert not result.get("failed"), result.get("msg")
        self._pull_secrets.add(namespace)

    def import_tag(self, namespace: str, stream: str, tag: str, *, image: str | None = None) -> str:
        """Import ``image`` (``repository:tag`` in the sandbox registry; by default a new image pushed as
        ``<namespace>/<stream>:<tag>``) into ``namespace/stream:tag``; returns the imported image's digest."""
        if image is None:
            image = f"{namespace}/{stream}:{tag}"
            self.push(f"{namespace}/{stream}", tag)
        self.ensure_pull_secret(namespace)
        answer = self.kube.create(
            f"/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreamimports",
            {
                "apiVersion": "image.openshift.io/v1",
                "kind": "ImageStreamImport",
                "metadata": {"name": stream, "namespace": namespace},
                "spec": {
                    "import": True,
                    "images": [
                        {
                            "from": {"kind": "DockerImage", "name": f"{self.sandbox.registry}/{image}"},
                            "to": {"name": tag},
                        }
                    ],
                },
            },
        )
        result = answer["status"]["images"][0]
        if result["status"].get("status") != "Success":
            raise AssertionError(f"import of {image} into {namespace}/{stream}:{tag} failed: {result['status']}")
        return result["image"]["metadata"]["name"]

    def wait_for_tag(self, namespace: str, stream: str, tag: str, *, timeout: float = 60.0) -> str:
        """Wait until ``stream:tag`` resolves to an image (an import by openshift-controller-manager, or tracking
        done by the server); returns the digest."""

        def resolved() -> str | None:
            current = self.kube.get(
                f"/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreamtags/{stream}:{tag}"
            )
            return ((current or {}).get("image") or {}).get("metadata", {}).get("name")

        return self.kube.wait_for(resolved, timeout=timeout, what=f"{namespace}/{stream}:{tag} to resolve to an image")


MANAGED_PULL_SECRET_REF = "openshift.io/internal-registry-pull-secret-ref"
PROJECT_SERVICE_ACCOUNTS = ("default", "builder", "deployer")


def managed_pull_secret(kube: Kube, namespace: str, service_account: str) -> str | None:
    """The managed registry pull secret openshift-controller-manager linked to the service account, once it holds
    a token (None before)."""
    sa = kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}")
    if not sa:
        return None
    name = (sa["metadata"].get("annotations") or {}).get(MANAGED_PULL_SECRET_REF)
    if not name or {"name": name} not in (sa.get("imagePullSecrets") or []):
        return None
    secret = kube.get(f"/api/v1/namespaces/{namespace}/secrets/{name}") or {}
    encoded = (secret.get("data") or {}).get(".dockercfg") or ""
    return name if encoded and json.loads(base64.b64decode(encoded) or b"{}") else None


def wait_for_project_setup(kube: Kube, namespace: str, *, timeout: float = 60.0) -> dict[str, str]:
    """Wait until OpenShift's controllers have set a new namespace up as on a cluster: the service accounts
    ``default``, ``builder`` and ``deployer``, each with its managed pull secret holding a token, and the
    ``system:image-pullers`` RoleBinding. Returns service account -> managed secret. Tests then start from what a
    real project looks like, and nothing the controllers do later races with what a test asserts."""
    managed: dict[str, str] = {}
    for name in PROJECT_SERVICE_ACCOUNTS:
        managed[name] = kube.wait_for(
            functools.partial(managed_pull_secret, kube, namespace, name),
            timeout=timeout,
            what=f"openshift-controller-manager to give {namespace}/{name} its pull secret",
        )
    kube.wait_for(
        lambda: kube.get(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/system:image-pullers"
        ),
        timeout=timeout,
        what=f"the system:image-pullers RoleBinding in {namespace}",
    )
    return managed


def _launcher_module(name: str) -> Any:
    """``tests/sandbox/<name>.py`` (the launcher and its OpenShift part), importable with the standard library."""
    sandbox_dir = str(REPO_ROOT / "tests" / "sandbox")
    if sandbox_dir not in sys.path:
        sys.path.insert(0, sandbox_dir)
    return importlib.import_module(name)


def _random_suffix(length: int = 5) -> str:
    # Kubernetes' generateName alphabet (no vowels, no confusable digits).
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(secrets.choice(alphabet) for _attempt in range(length))


class _Controller(ABC):
    """A background thread that stops on ``__exit__`` and re-raises its own failure there."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._guarded, name=name, daemon=True)
        self.error: BaseException | None = None

    def _guarded(self) -> None:
        try:
            self._run()
        except BaseException as error:  # reported by __exit__, so a broken stand-in fails the test
            self.error = error

    @abstractmethod
    def _run(self) -> None:
        """The stand-in's loop; returns when done or when ``_sleep`` reports a stop."""

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True when stopped."""
        return self._stop.wait(seconds)

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if exc_type is None and self.error is not None:
            raise AssertionError(f"{self._thread.name} stand-in failed: {self.error!r}") from self.error


# No allowlist the fixture below sets admits this registry: its probe names it to see which list the server applies.
_ALLOWLIST_PROBE_REGISTRY = "allowlist-probe.invalid"


@contextlib.contextmanager
def allowed_registries_for_import(kube: Kube, registries: list[dict[str, Any]]) -> Iterator[None]:
    """For the block, images.config.openshift.io/cluster ``spec.allowedRegistriesForImport`` is ``registries``; put
    back afterwards. The sandbox's own image API server watches it and applies a change a moment later; real
    openshift-apiserver binaries (SANDBOX_OPENSHIFT_BIN) are restarted with it, as cluster-openshift-apiserver-operator
    rolls its pods on such a change (about 10 s each way). Either way the block starts, and the fixture returns, only
    once the server applies the change (see ``_wait_until_allowlist_applied``)."""
    if any(fnmatch.fnmatchcase(_ALLOWLIST_PROBE_REGISTRY, entry["domainName"].split(":")[0]) for entry in registries):
        raise ValueError(f"registries must not allow {_ALLOWLIST_PROBE_REGISTRY}: the fixture's probe relies on it")
    launcher = _launcher_module("sandbox")
    real = bool((launcher.read_state() or {}).get("openshift_real"))
    # The setting is cluster-wide and tests run in parallel: the sandbox's own registries stay allowed.
    registries = [*registries, {"domainName": "127.0.0.1:*"}]
    collection, _config = _launcher_module("openshift").image_config_cluster()
    kube.patch(f"{collection}/cluster", {"spec": {"allowedRegistriesForImport": registries}})
    try:
        if real:
            launcher.restart_openshift_apiserver(allowed_registries_for_import=registries)
        _wait_until_allowlist_applied(kube, restricted=True)
        yield
    finally:
        kube.patch(f"{collection}/cluster", {"spec": {"allowedRegistriesForImport": None}})
        if real:
            launcher.restart_openshift_apiserver()
        _wait_until_allowlist_applied(kube, restricted=False)


def _wait_until_allowlist_applied(kube: Kube, *, restricted: bool, timeout: float = 10.0) -> None:
    """Wait until the image API server refuses (``restricted``) or accepts a server-side dry-run create, in namespace
    ``default``, of an image stream whose tag comes from ``_ALLOWLIST_PROBE_REGISTRY``. Nothing is stored."""
    path = "/apis/image.openshift.io/v1/namespaces/default/imagestreams?dryRun=All"
    source = {"kind": "DockerImage", "name": f"{_ALLOWLIST_PROBE_REGISTRY}/probe/probe:1"}
    stream = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "allowlist-probe"},  # a dry run: never stored, so never in the way
        "spec": {"tags": [{"name": "probe", "from": source}]},
    }
    refusal = f'registry "{_ALLOWLIST_PROBE_REGISTRY}" not allowed'
    last: list[tuple[int, str]] = []

    def applied() -> bool:
        status, body = kube.send("POST", path, stream)
        message = str(body.get("message", "")) if isinstance(body, dict) else str(body)
        last[:] = [(status, message)]
        return status == 422 and refusal in message if restricted else status == 201

    try:
        kube.wait_for(applied, timeout=timeout, interval=0.1, what="the image API server to apply the allowlist")
    except AssertionError as error:
        status, message = last[0]
        wanted = f"refuse it (422, {refusal})" if restricted else "accept it (201)"
        raise AssertionError(
            f"images.config.openshift.io/cluster's allowedRegistriesForImport was {'set' if restricted else 'reset'}, "
            f"but after {timeout:g} s a dry-run image stream from {_ALLOWLIST_PROBE_REGISTRY} still answers "
            f"{status}: {message}; wanted the image API server to {wanted}"
        ) from error


# --------------------------------------------------------------------------------------------------------------------
# Registry clients


def registry_authfile(path: str | os.PathLike[str], server: str, user: str, password: str) -> str:
    """Write a containers-auth.json with one entry (mode 0600); returns the path."""
    target = Path(path)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    target.touch(mode=0o600)
    target.write_text(json.dumps({"auths": {server: {"auth": auth}}}), encoding="utf-8")
    return str(target)


def skopeo_inspect(image: str, authfile: str | None, ca_dir: str) -> subprocess.CompletedProcess[str]:
    """``skopeo inspect`` of ``image`` (``host:port/repo:tag``, docker:// optional) with TLS verified against the
    CA in ``ca_dir`` (a directory, or the CA file itself, whose directory is used)."""
    ca_path = Path(ca_dir)
    cert_dir = ca_path.parent if ca_path.is_file() else ca_path
    reference = image if image.startswith("docker://") else f"docker://{image}"
    command = ["skopeo", "inspect", "--tls-verify=true", "--cert-dir", str(cert_dir)]
    command += ["--authfile", authfile] if authfile else ["--no-creds"]
    return subprocess.run([*command, reference], capture_output=True, text=True, timeout=120, check=False)


@contextlib.contextmanager
def temporary_role_binding(
    kube: Kube, namespace: str, *, role: str, user: str = "sandbox-user", kind: str = "ClusterRole"
) -> Iterator[str]:
    """Grant ``user`` a role in ``namespace`` for the duration of the block (for 403-path tests)."""
    name = f"test-{role.replace(':', '-')}-{_random_suffix()}"
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }
    path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings"
    kube.create(path, binding)
    try:
        yield name
    finally:
        kube.delete(f"{path}/{name}")


# --------------------------------------------------------------------------------------------------------------------
# The seeded OpenShift objects (installed by the launcher at `up`; `seed(kube, reset=True)` puts them back)

MANIFESTS_DIR = REPO_ROOT / "tests" / "sandbox" / "manifests"
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
SEED_EMAIL = "sandbox-admin@example.org"


def _fake_auth(user: str) -> str:
    return base64.b64encode(f"{user}:fake-{user}-token-{'0' * 8}".encode()).decode()


def seeded_pull_secret_document() -> dict[str, Any]:
    """The fake global pull secret the sandbox starts with (shaped like one from console.redhat.com)."""
    return {
        "auths": {
            "cloud.openshift.com": {"auth": _fake_auth("sandbox-telemetry"), "email": SEED_EMAIL},
            "quay.io": {"auth": _fake_auth("sandbox+quay")},
            "registry.redhat.io": {"auth": _fake_auth("sandbox-rh"), "email": SEED_EMAIL},
            "registry.connect.redhat.com": {"auth": _fake_auth("sandbox-connect")},
        }
    }


def seeded_pull_secret() -> dict[str, Any]:
    # Pretty-printed, as people paste it; the MCO stand-in compares the compacted form.
    document = json.dumps(seeded_pull_secret_document(), indent=2) + "\n"
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": "pull-secret", "namespace": "openshift-config"},
        "data": {".dockerconfigjson": base64.b64encode(document.encode()).decode()},
    }


def _load_manifests(directory: str) -> list[dict[str, Any]]:
    """Every manifest in ``tests/sandbox/manifests/<directory>``, one object per file, by file name."""
    paths = sorted((MANIFESTS_DIR / directory).glob("*.yaml"))
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths]


def _ensure(kube: Kube, collection: str, body: dict[str, Any], *, reset: bool) -> dict[str, Any]:
    """Create ``body`` when missing; with ``reset``, replace what is there with it (keeping resourceVersion)."""
    path = f"{collection}/{body['metadata']['name']}"
    current = kube.get(path)
    if current is None:
        return kube.create(collection, body)
    if not reset:
        return current
    wanted = json.loads(json.dumps(body))
    for _attempt in range(10):  # a test's MCO stand-in may be writing the same pool meanwhile
        wanted["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        try:
            return kube.replace(path, wanted)
        except KubeTestError as error:
            if error.status != 409:
                raise
        time.sleep(0.1)
        current = kube.get(path) or current
    return kube.replace(path, wanted)


def _openshift_crds() -> list[Path]:
    """The config.openshift.io CRDs copied from github.com/openshift/api beside the sandbox's own servers."""
    state = _launcher_module("sandbox").read_state() or {}
    directory = state.get("openshift_crds")
    if not directory:
        raise RuntimeError("the sandbox state names no CRD directory: restart it with `make sandbox-down sandbox-up`")
    return _launcher_module("openshift").crd_paths(Path(directory), real=bool(state.get("openshift_real")))


def seed(kube: Kube, *, reset: bool = False) -> None:
    """Install what OpenShift's operators would have put in place, creating only what is missing (``reset`` also
    puts modified seeded objects back: openshift-config/pull-secret and the pools master and worker).

    The CRDs are OpenShift's own (from the github.com/openshift/api module the sandbox's servers are built with)
    plus those the MCO stand-in needs. OpenShift's roles are ours as data (manifests/openshift-rbac, written from
    its bootstrap policy); real openshift-apiserver binaries (SANDBOX_OPENSHIFT_BIN) create their own."""
    launcher = _launcher_module("openshift")
    for name in launcher.PLATFORM_NAMESPACES:
        _ensure(
            kube,
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            reset=False,
        )
    crds = [doc for path in _openshift_crds() for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    crds += _load_manifests("machine-config-operator")
    for crd in crds:
        _ensure(kube, CRD_PATH, crd, reset=reset)
    for crd in crds:
        path = f"{CRD_PATH}/{crd['metadata']['name']}"
        kube.wait_for(
            functools.partial(_crd_established, kube, path),
            timeout=60,
            what=f"CRD {crd['metadata']['name']} to be Established",
        )
    if not (_launcher_module("sandbox").read_state() or {}).get("openshift_real"):
        for role in _load_manifests("openshift-rbac"):
            kind = role["kind"].lower() + "s"
            _ensure(kube, f"/apis/rbac.authorization.k8s.io/v1/{kind}", role, reset=reset)
    collection, image_config = launcher.image_config_cluster()
    kube.wait_for(
        functools.partial(_ensure_quietly, kube, collection, image_config, reset=reset),
        timeout=30,
        what="images.config.openshift.io/cluster to be creatable",
    )
    _ensure(kube, "/api/v1/namespaces/openshift-config/secrets", seeded_pull_secret(), reset=reset)
    # The CRDs' discovery can lag their Established condition by a moment.
    kube.wait_for(
        functools.partial(
            _ensure_quietly,
            kube,
            "/apis/machineconfiguration.openshift.io/v1/machineconfigs",
            {
                "apiVersion": "machineconfiguration.openshift.io/v1",
                "kind": "MachineConfig",
                "metadata": {"name": "99-sandbox-discovery-probe"},
                "spec": {},
            },
            reset=False,
        ),
        timeout=30,
        what="MachineConfigs to be creatable",
    )
    kube.delete("/apis/machineconfiguration.openshift.io/v1/machineconfigs/99-sandbox-discovery-probe")
    # mco_stand_in imports this module: import it late, from wherever this one was imported (tests or launcher)
    stand_in = importlib.import_module(f"{__package__}.mco_stand_in" if __package__ else "mco_stand_in")
    stand_in.seed_machine_config_operator(kube, reset=reset)


def _crd_established(kube: Kube, path: str) -> bool:
    conditions = ((kube.get(path) or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def _ensure_quietly(kube: Kube, collection: str, body: dict[str, Any], *, reset: bool) -> dict[str, Any] | None:
    try:
        return _ensure(kube, collection, body, reset=reset)
    except KubeTestError as error:
        if error.status == 404:
            return None
        raise


# --- reading module results -------------------------------------------------------------------------------------


def assert_ok(result: dict) -> dict:
    """The result of a module run that must have succeeded (its message shows when it did not)."""
    assert not result.get("failed"), result.get("msg")
    return result


def module_writes(audit: AuditLog, mark: AuditMark, namespace: str, resource: str | None = None) -> list[dict]:
    """Writes the collection sent (by its User-Agent) after ``mark``: controllers of the sandbox write too."""
    events = audit.writes(since=mark, namespace=namespace, resource=resource)
    return [event for event in events if str(event.get("userAgent", "")).startswith("openshift_ops.images")]


def warnings_of(result: dict) -> list[str]:
    """The warning texts of a module result (ansible-core 2.19 reports them as structured summaries)."""
    texts = []
    for warning in result.get("warnings") or []:
        texts.append(warning if isinstance(warning, str) else warning.get("event", {}).get("msg", ""))
    return texts
