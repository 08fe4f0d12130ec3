# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A runbook run the way AWX (automation controller) runs a job template, through ansible-runner's Python API: a
fresh private data dir per job with the inventory and the project's playbook in it, extra vars in
``env/extravars``, the cluster credential injected as an AWX custom credential type would inject it (``K8S_AUTH_*``
in the job's environment, the CA written to a file in the private data dir), and every job event collected through
``event_handler``. The collection is the installed one (ANSIBLE_COLLECTIONS_PATH), as in an execution environment.

What this does not cover: AWX itself (its credential plugins, surveys, receptor, the execution environment image);
see docs/awx.md."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import ansible_runner
import pytest

from .leak_scan import LEAKS
from .runbook_support import (
    Projects,
    collection_writes,
    image_pull_secrets,
    runbook_play,
    stored_auths,
)
from .sandbox_support import COLLECTIONS_ROOT, AuditLog, Kube, Sandbox, read_kubeconfig

PLAYBOOK = "onboard_registry.yml"
SECRET = "awx-registry"
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.fixture
def job_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """ansible-runner starts ansible-playbook with this process's environment plus the job's, and writes all of it
    to the job's ``command`` artifact: take out every cluster setting of the test run (so the credential's
    variables are the only way to the cluster) and the sandbox's own variables (its registry password among them),
    which an AWX job's environment does not hold either."""
    for name in list(os.environ):
        if name.startswith(("K8S_AUTH_", "SANDBOX_")) or name == "KUBECONFIG":
            monkeypatch.delenv(name)


class AwxJob:
    """One job: its private data dir, the credential's environment, the events it emitted."""

    def __init__(self, root: Path, *, sandbox: Sandbox, token: str, extravars: dict[str, Any]) -> None:
        self.root = root
        project = root / "project"
        project.mkdir(parents=True)
        # The job template's playbook lives in the project (an SCM checkout); it runs the installed runbook.
        (project / PLAYBOOK).write_text(runbook_play("onboard_registry"), encoding="utf-8")
        inventory = root / "inventory"
        inventory.mkdir()
        (inventory / "hosts").write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n", encoding="utf-8"
        )
        env = root / "env"
        env.mkdir(mode=0o700)
        self._private_file(env / "extravars", json.dumps(extravars))
        # the credential type's file injector: the CA data in a private file, its path in K8S_AUTH_SSL_CA_CERT
        credentials = root / "credentials"
        credentials.mkdir(mode=0o700)
        ca_file = credentials / "ca.crt"
        self._private_file(ca_file, Path(sandbox.ca).read_text(encoding="utf-8"))
        self.envvars = {
            "K8S_AUTH_HOST": sandbox.api,
            "K8S_AUTH_API_KEY": token,
            "K8S_AUTH_SSL_CA_CERT": str(ca_file),
            "K8S_AUTH_VERIFY_SSL": "True",  # how AWX renders a boolean input into an env injector
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(root / "tmp" / "local"),
            "ANSIBLE_REMOTE_TEMP": str(root / "tmp" / "remote"),
        }
        self.events: list[dict[str, Any]] = []
        self.runner: Any = None

    @staticmethod
    def _private_file(path: Path, text: str) -> None:
        path.touch(mode=0o600)
        path.write_text(text, encoding="utf-8")

    def _on_event(self, event: dict[str, Any]) -> bool:
        self.events.append(event)
        return True  # keep the event's file in artifacts/, as AWX's handler does

    def run(self, *, check: bool = False) -> AwxJob:
        self.runner = ansible_runner.run(
            private_data_dir=str(self.root),
            playbook=PLAYBOOK,
            inventory=str(self.root / "inventory" / "hosts"),
            envvars=self.envvars,
            # AWX: job type "check" adds --check, "Show Changes" adds --diff
            cmdline="--check --diff" if check else "--diff",
            event_handler=self._on_event,
            suppress_env_files=True,  # only the env/extravars written above, nothing else under env/
            quiet=True,
            ident="job",
        )
        return self

    @property
    def stats(self) -> dict[str, Any]:
        [stats] = [event["event_data"] for event in self.events if event["event"] == "playbook_on_stats"]
        return stats

    def count(self, kind: str) -> int:
        return int(self.stats.get(kind, {}).get("localhost", 0))

    def results_of(self, action: str) -> list[dict[str, Any]]:
        """The final results (``runner_on_ok``) of the tasks running ``action``."""
        return [
            event["event_data"]["res"]
            for event in self.events
            if event["event"] == "runner_on_ok" and event["event_data"].get("resolved_action") == action
        ]

    def artifacts(self) -> list[Path]:
        return sorted(path for path in (self.root / "artifacts").rglob("*") if path.is_file())

    def record_for_leak_scan(self, label: str) -> None:
        """Every event and artifact (but ``command``, see the test) goes to the session's leak scan too."""
        LEAKS.runs += 1
        for event in self.events:
            LEAKS.record(f"{label}: event {event.get('counter')} {event['event']}", json.dumps(event))
        for path in self.artifacts():
            if path.name != "command":
                LEAKS.record(f"{label}: artifact {path.relative_to(self.root)}", path.read_bytes())

    def summary(self) -> str:
        return (
            f"status={self.runner.status} rc={self.runner.rc} events={len(self.events)} "
            f"ok={self.count('ok')} changed={self.count('changed')} failures={self.count('failures')}"
        )


def assert_no_secret(job: AwxJob, secrets: list[str]) -> None:
    """No secret in any event, nor in any artifact but ``command``, which is private and holds the job's env."""
    for event in job.events:
        text = json.dumps(event)
        for secret in secrets:
            assert secret not in text, f"a secret reached event {event.get('counter')} ({event['event']})"
    artifacts = job.artifacts()
    assert any(path.parent.name == "job_events" for path in artifacts)
    for path in artifacts:
        data = path.read_text(encoding="utf-8", errors="replace")
        if path.name == "command":
            # ansible-runner writes the command line, cwd and the whole environment of the job here (mode 0600):
            # the credential's token is in it by design, the extra vars are not (they go by file, -e @...).
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert job.envvars["K8S_AUTH_API_KEY"] in data  # what docs/awx.md says; if this changes, update it
            assert all(secret not in data for secret in secrets if secret != job.envvars["K8S_AUTH_API_KEY"])
            continue
        for secret in secrets:
            assert secret not in data, f"a secret reached artifact {path.relative_to(job.root)}"


def test_onboard_registry_as_an_awx_job(
    sandbox: Sandbox,
    kube: Kube,
    audit: AuditLog,
    tmp_path: Path,
    *,
    projects: Projects,
    job_environment: None,
) -> None:
    namespaces = [projects.new("a"), projects.new("b")]
    for namespace in namespaces:
        projects.grant(namespace, "edit")
    token = read_kubeconfig(sandbox.user_kubeconfig).token
    assert token
    extravars = {
        "registry_onboarding_server": sandbox.registry,
        "registry_onboarding_username": sandbox.registry_user,
        "registry_onboarding_password": sandbox.registry_password,
        "registry_onboarding_registry_ca_cert": sandbox.registry_ca,
        "registry_onboarding_namespaces": namespaces,
        "registry_onboarding_secret_name": SECRET,
    }
    secrets = [
        token,
        sandbox.registry_password,
        base64.b64encode(f"{sandbox.registry_user}:{sandbox.registry_password}".encode()).decode(),
    ]

    def job(name: str) -> AwxJob:
        return AwxJob(tmp_path / name, sandbox=sandbox, token=token, extravars=extravars)

    def writes(since: Any) -> list[Any]:
        return [write for namespace in namespaces for write in collection_writes(audit, since, namespace=namespace)]

    mark = audit.mark()
    check = job("check").run(check=True)
    print(f"check job: {check.summary()}")
    check.record_for_leak_scan("ansible-runner check job")
    assert check.runner.status == "successful", check.summary()
    assert check.count("changed") == 1
    assert writes(mark) == []
    assert all(kube.get(f"/api/v1/namespaces/{ns}/secrets/{SECRET}") is None for ns in namespaces)

    first = job("first").run()
    print(f"first job: {first.summary()}")
    first.record_for_leak_scan("ansible-runner first job")
    assert first.runner.status == "successful", first.summary()
    assert (first.count("changed"), first.count("failures")) == (1, 0)
    for namespace in namespaces:
        assert list(stored_auths(kube, namespace, SECRET)) == [sandbox.registry]
        assert SECRET in image_pull_secrets(kube, namespace, "default")
    [summary] = [
        res["msg"] for res in first.results_of("ansible.builtin.debug") if "project_pull_secrets" in res["msg"]
    ]
    assert summary["project_pull_secrets"] == dict.fromkeys(namespaces, "created")
    # the token reached the modules from K8S_AUTH_API_KEY and is masked in what they return
    [onboarding] = first.results_of("openshift_ops.images.pull_secret")
    assert {item["invocation"]["module_args"]["api_key"] for item in onboarding["results"]} == {MASK}

    mark = audit.mark()
    second = job("second").run()
    print(f"second job: {second.summary()}")
    second.record_for_leak_scan("ansible-runner second job")
    assert second.runner.status == "successful", second.summary()
    assert second.count("changed") == 0
    assert second.count("ok") == first.count("ok")
    assert writes(mark) == []

    for each in (check, first, second):
        assert_no_secret(each, secrets)


def test_a_failing_awx_job_shows_no_secret(
    sandbox: Sandbox, kube: Kube, audit: AuditLog, tmp_path: Path, *, projects: Projects, job_environment: None
) -> None:
    namespace = projects.new("bad")
    projects.grant(namespace, "edit")
    token = read_kubeconfig(sandbox.user_kubeconfig).token
    assert token
    wrong = "wrong-Pa55word-for-awx"
    extravars = {
        "registry_onboarding_server": sandbox.registry,
        "registry_onboarding_username": sandbox.registry_user,
        "registry_onboarding_password": wrong,
        "registry_onboarding_registry_ca_cert": sandbox.registry_ca,
        "registry_onboarding_namespaces": [namespace],
    }
    LEAKS.add_basic_pair(sandbox.registry_user, wrong)
    mark = audit.mark()
    failed = AwxJob(tmp_path / "job", sandbox=sandbox, token=token, extravars=extravars).run()
    print(f"failing job: {failed.summary()}")
    failed.record_for_leak_scan("ansible-runner failing job")
    assert failed.runner.status == "failed", failed.summary()
    assert failed.count("failures") == 1
    assert any(
        event["event"] == "runner_on_failed" and "rejected" in json.dumps(event["event_data"].get("res", {}))
        for event in failed.events
    )
    assert collection_writes(audit, mark, namespace=namespace) == []
    assert_no_secret(failed, [token, wrong, base64.b64encode(f"{sandbox.registry_user}:{wrong}".encode()).decode()])
