"""Every option is checked before anything connects: a bad option fails the task with a message that names it,
before the kubeconfig's exec credential plugin runs and before a request reaches the API server.

The kubeconfig's user is an exec plugin that leaves a mark each time it runs. In one form it then fails (as a plugin
whose login expired does: the task would otherwise fail with the plugin's error, not the option's); in the other it
hands out ``sandbox-user``'s real token (``edit`` in the test's project), so a run that got as far as connecting
would reach the API server as ``sandbox-user``, and the audit log would show its access reviews and writes.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from .sandbox_support import AuditLog, Kube, ModuleRunner, Sandbox, read_kubeconfig, temporary_role_binding

USER = "sandbox-user"
PASSWORD = "Options-first-Pa55w0rd-never-shown"
MISSING = "/nonexistent/openshift-ops-images"


def exec_kubeconfig(sandbox: Sandbox, directory: Path, *, namespace: str, plugin_works: bool) -> tuple[str, Path]:
    """A kubeconfig whose user is an exec plugin that appends a line to the returned mark file when it runs."""
    mark = directory / "exec-plugin-ran"
    token_file = directory / "token"
    token_file.write_text(read_kubeconfig(sandbox.user_kubeconfig).token or "", encoding="utf-8")
    token_file.chmod(0o600)
    answer = (
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential', "
        "'status': {'token': open(os.environ['TOKEN_FILE']).read()}}))\n"
        if plugin_works
        else "sys.stderr.write('error: the login session expired; log in again\\n')\nsys.exit(1)\n"
    )
    plugin = directory / "credential-plugin"
    plugin.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "with open(os.environ['MARK_FILE'], 'a') as mark:\n"
        "    mark.write('ran\\n')\n" + answer,
        encoding="utf-8",
    )
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": {"server": sandbox.api, "certificate-authority": sandbox.ca}}],
        "users": [
            {
                "name": "exec-user",
                "user": {
                    "exec": {
                        "command": str(plugin),
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "env": [
                            {"name": "TOKEN_FILE", "value": str(token_file)},
                            {"name": "MARK_FILE", "value": str(mark)},
                        ],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "exec", "context": {"cluster": "sandbox", "user": "exec-user", "namespace": namespace}}],
        "current-context": "exec",
    }
    path = directory / "kubeconfig"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path), mark


def registry(**fields: Any) -> dict[str, Any]:
    return {"server": "registry.example.com", "username": "options-user", "password": PASSWORD} | fields


# (module, params, texts the message must hold: the option, and what is wrong with it)
CASES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    (
        "pull_secret",
        {"name": "options-first", "registries": [{"server": "registry.example.com", "auth": "%%not-base64%%"}]},
        ("registries[0] (server registry.example.com)", "base64"),
    ),
    ("pull_secret", {"name": "options-first", "auth_file": f"{MISSING}/auth.json"}, ("auth_file", "does not exist")),
    (
        "pull_secret",
        {
            "name": "options-first",
            "registries": [registry()],
            "validate_credentials": True,
            "registry_ca_cert": f"{MISSING}/ca.pem",
        },
        ("registry_ca_cert", "does not exist"),
    ),
    (
        "pull_secret",
        {"name": "options-first", "registries": [registry()], "remove_registries": ["https://registry.example.com"]},
        ("remove_registries", "both given with credentials"),
    ),
    ("global_pull_secret", {"auth_content": "{not json"}, ("auth_content", "not valid JSON")),
    (
        "image_pull_access_info",
        {"image": "registry.example.com/app:1", "check_credentials": True, "registry_ca_cert": f"{MISSING}/ca.pem"},
        ("registry_ca_cert", "does not exist"),
    ),
]


@pytest.fixture(params=[False, True], ids=["failing-plugin", "working-plugin"])
def exec_user(request: pytest.FixtureRequest, sandbox: Sandbox, namespace: str, tmp_path: Path) -> tuple[str, Path]:
    """(the kubeconfig, the file its exec plugin marks when it runs)."""
    return exec_kubeconfig(sandbox, tmp_path, namespace=namespace, plugin_works=request.param)


def test_a_bad_option_fails_before_the_exec_plugin_runs_or_a_request_is_sent(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog, exec_user: tuple[str, Path]
) -> None:
    kubeconfig, mark = exec_user
    problems: list[str] = []
    with temporary_role_binding(kube, namespace, role="edit", user=USER):
        before = audit.mark()
        for index, (module, params, named) in enumerate(CASES):
            label = f"case {index} ({module})"
            result = run_module(module, {"namespace": namespace, **params}, kubeconfig=kubeconfig)
            message = str(result.get("msg", ""))
            if result.get("failed") is not True:
                problems.append(f"{label} did not fail: {result}")
            problems += [f"{label}: {text!r} not in {message!r}" for text in named if text not in message]
            if "login session" in message:
                problems.append(f"{label} failed with the exec plugin's error: {message}")
            if PASSWORD in json.dumps(result):
                problems.append(f"{label} shows the password")
            if mark.exists():
                problems.append(f"{label}: the exec plugin ran before the option failed")
                mark.unlink()
        events = [event for event in audit.events(since=before) if event.get("user", {}).get("username") == USER]
    problems += [
        f"a request reached the API server as {USER}: {event['verb']} {event.get('requestURI')}" for event in events
    ]
    assert not problems, "\n".join(problems)
