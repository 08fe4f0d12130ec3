"""The two execution paths give the same task results: every module's scenario (check, apply, apply again, check
again, bad input, an unknown option, a user without rights, remove, remove again) runs through ansible-playbook
with the module shipped and with its core in the controller's process, each in its own projects, at
``-vvv --diff``; the results are compared field by field (project and registry names made comparable) and
searched for every secret used.

Then the choice of path: what sends a task to the shipped module (become, async, the switch), and what the
in-process path must honour as a module would (``module_defaults`` of the action group, the task's
``environment:``)."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

from . import sandbox_support
from .sandbox_support import Kube, PlaybookRunner, Sandbox

IN_PROCESS_MARK = "running in the controller's process"
MODULE_MARK = "running as a module"
PASSWORD = "paths-Registry-Passw0rd-for-tests"
VOLATILE = {"resourceVersion", "uid", "creationTimestamp", "managedFields"}


@contextlib.contextmanager
def project(kube: Kube, stem: str) -> Iterator[str]:
    name = f"it-paths-{stem}-{secrets.token_hex(3)}"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        sandbox_support.wait_for_project_setup(kube, name)
        yield name
    finally:
        kube.delete(f"/api/v1/namespaces/{name}")


@dataclass
class Scenario:
    """One module's steps. ``present`` and ``absent`` are its options with ``{ns}``, ``{other}`` and
    ``{registry}`` filled in per path; ``bad`` is laid over ``present``."""

    module: str
    present: dict[str, Any]
    absent: dict[str, Any]
    bad: dict[str, Any]
    setup: Callable[[Kube, str], None] = lambda _kube, _ns: None
    secrets: list[str] = field(default_factory=list)


def create_robot_secret(kube: Kube, namespace: str) -> None:
    document = json.dumps({"auths": {"registry.example.com": {"auth": b64(f"robot:{PASSWORD}")}}})
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "robot-pull"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": b64(document)},
        },
    )


def scenarios(sandbox: Sandbox) -> dict[str, Scenario]:
    registry_credentials = [{"server": sandbox.registry, "username": sandbox.registry_user, "password": "{password}"}]
    return {
        "image_tag": Scenario(
            module="image_tag",
            present={
                "namespace": "{ns}",
                "source": "registry.example.com/paths/app:1.0",
                "source_type": "DockerImage",
                "reference": True,
                "dest": ["app:1.0", "app:stable"],
            },
            absent={"namespace": "{ns}", "dest": ["app:stable"], "state": "absent"},
            bad={"dest": ["app:Not A Tag"]},
        ),
        "pull_secret": Scenario(
            module="pull_secret",
            present={
                "namespace": "{ns}",
                "name": "robot",
                "registries": registry_credentials,
                "validate_credentials": True,
                "registry_ca_cert": sandbox.registry_ca,
                "link_service_accounts": ["default"],
            },
            absent={"namespace": "{ns}", "name": "robot", "state": "absent", "link_service_accounts": ["default"]},
            bad={"registries": [{"server": "https://bad server/", "auth": "not base64"}]},
            secrets=[sandbox.registry_password, b64(f"{sandbox.registry_user}:{sandbox.registry_password}")],
        ),
        "secret_link": Scenario(
            module="secret_link",
            present={"namespace": "{ns}", "service_account": "default", "secrets": ["robot-pull"], "purpose": ["pull"]},
            absent={"namespace": "{ns}", "service_account": "default", "secrets": ["robot-pull"], "state": "absent"},
            bad={"service_account": "Not_An_Account"},
            setup=create_robot_secret,
            secrets=[PASSWORD, b64(f"robot:{PASSWORD}")],
        ),
        "image_puller_binding": Scenario(
            module="image_puller_binding",
            present={"namespace": "{ns}", "service_accounts": ["{other}:default"], "from_namespaces": ["{other}"]},
            absent={
                "namespace": "{ns}",
                "service_accounts": ["{other}:default"],
                "from_namespaces": ["{other}"],
                "state": "absent",
            },
            bad={"service_accounts": ["not:a:valid:account"]},
        ),
        "global_pull_secret": Scenario(
            module="global_pull_secret",
            present={"registries": [{"server": "{registry}", "username": "robot", "password": "{password}"}]},
            absent={"state": "absent", "remove_registries": ["{registry}"]},
            bad={"registries": [{"server": "{registry}", "auth": "not base64!"}]},
            secrets=[PASSWORD, b64(f"robot:{PASSWORD}")],
        ),
    }


def filled(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: filled(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, names) for item in value]
    if isinstance(value, str):
        for placeholder, name in names.items():
            value = value.replace("{" + placeholder + "}", name)
    return value


def scenario_playbook(scenario: Scenario, names: dict[str, str], user_kubeconfig: str, out: Path) -> str:
    fqcn = f"openshift_ops.images.{scenario.module}"
    present = filled(scenario.present, names)
    absent = filled(scenario.absent, names)
    steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("check", present, {"check_mode": True}),
        ("apply", present, {}),
        ("again", present, {}),
        ("check_again", present, {"check_mode": True}),
        ("bad", present | filled(scenario.bad, names), {"ignore_errors": True}),
        ("unknown_option", present | {"colour": "blue"}, {"ignore_errors": True}),
        ("forbidden", present | {"kubeconfig": user_kubeconfig}, {"ignore_errors": True}),
        ("remove", absent, {}),
        ("remove_again", absent, {}),
    ]
    tasks: list[dict[str, Any]] = [
        {"name": step, fqcn: options, "register": f"r_{step}", **keywords} for step, options, keywords in steps
    ]
    registered = ", ".join(f"'{step}': r_{step}" for step, _options, _keywords in steps)
    tasks.append(
        {
            "name": "results",
            "ansible.builtin.copy": {"dest": str(out), "content": "{{ {" + registered + "} | to_nice_json }}"},
            "diff": False,
        }
    )
    return yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False)


def comparable(results: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(results, sort_keys=True)
    for placeholder, name in sorted(names.items(), key=lambda item: -len(item[1])):
        if placeholder != "password":
            text = text.replace(name, f"<{placeholder}>")
    # the managed pull secrets OpenShift gives each service account end in a random suffix
    text = re.sub(r"-dockercfg-[a-z0-9]{5}\b", "-dockercfg-<suffix>", text)

    def without_volatile(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: without_volatile(item) for key, item in value.items() if key not in VOLATILE}
        if isinstance(value, list):
            return [without_volatile(item) for item in value]
        return value

    return without_volatile(json.loads(text))


@dataclass
class PathRun:
    results: dict[str, Any]
    output: str
    written: str


def run_scenario(
    sandbox: Sandbox, kube: Kube, scenario: Scenario, path: str, tmp_path: Path
) -> tuple[PathRun, dict[str, str]]:
    out = tmp_path / f"{scenario.module}-{path}.json"
    with project(kube, path.replace("_", "-")) as namespace, project(kube, "other") as other:
        names = {
            "ns": namespace,
            "other": other,
            "registry": f"paths-{path.replace('_', '-')}.example.com",
            "password": PASSWORD if scenario.module != "pull_secret" else sandbox.registry_password,
        }
        scenario.setup(kube, namespace)
        playbook = scenario_playbook(scenario, names, sandbox.user_kubeconfig, out)
        completed = PlaybookRunner(sandbox, path=path)(playbook, diff=True, verbosity=3)
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, output[-4000:]
        written = out.read_text(encoding="utf-8")
        return PathRun(json.loads(written), output, written), names


@pytest.mark.parametrize(
    "module", ["image_tag", "pull_secret", "secret_link", "image_puller_binding", "global_pull_secret"]
)
def test_both_paths_give_the_same_results_and_leak_nothing(
    sandbox: Sandbox, kube: Kube, module: str, tmp_path: Path, restore_seed: None
) -> None:
    scenario = scenarios(sandbox)[module]
    shipped, shipped_names = run_scenario(sandbox, kube, scenario, "module", tmp_path)
    in_process, in_process_names = run_scenario(sandbox, kube, scenario, "in_process", tmp_path)

    # each ran on its own path, every task of the collection
    tasks = 9
    assert shipped.output.count(MODULE_MARK) == tasks and IN_PROCESS_MARK not in shipped.output
    assert in_process.output.count(IN_PROCESS_MARK) == tasks and MODULE_MARK not in in_process.output

    expected = comparable(shipped.results, shipped_names)
    got = comparable(in_process.results, in_process_names)
    assert got.keys() == expected.keys()
    for step in expected:
        assert got[step] == expected[step], f"{module} {step}: the paths differ"

    # what the scenario is meant to show, on both
    assert [expected[step].get("changed") for step in ("check", "apply", "again", "check_again")] == [
        True,
        True,
        False,
        False,
    ]
    assert expected["bad"]["failed"] and expected["forbidden"]["failed"]
    assert expected["unknown_option"]["msg"].startswith(
        f"Unsupported parameters for (openshift_ops.images.{module}) module: colour."
    )
    assert [expected["remove"]["changed"], expected["remove_again"]["changed"]] == [True, False]

    for run in (shipped, in_process):
        for secret in scenario.secrets:
            assert secret not in run.output and secret not in run.written


def marks(output: str) -> list[str]:
    return re.findall(rf"({IN_PROCESS_MARK}|{MODULE_MARK}(?: \([^)]*\))?)", output)


TAG_TASK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Tag
      openshift_ops.images.image_tag:
        namespace: "{{ ns }}"
        source: registry.example.com/paths/app:1.0
        source_type: DockerImage
        reference: true
        dest: ["app:{{ tag }}"]
"""


# case -> (task keywords, extra vars, environment of ansible-playbook, the path the -vvv output must name)
PATH_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, str], str]] = {
    "local": ({}, {}, {}, IN_PROCESS_MARK),
    "become": (
        {"become": True, "become_method": "ansible.builtin.su"},
        {},
        {},
        f"{MODULE_MARK} (the task uses become)",
    ),
    "async": ({"async": 60, "poll": 1}, {}, {}, f"{MODULE_MARK} (the task is async)"),
    "variable-off": (
        {},
        {"openshift_ops_images_in_process": False},
        {},
        f"{MODULE_MARK} (openshift_ops_images_in_process is false)",
    ),
    "environment-off": (
        {},
        {},
        {"OPENSHIFT_OPS_IMAGES_IN_PROCESS": "no"},
        f"{MODULE_MARK} (OPENSHIFT_OPS_IMAGES_IN_PROCESS is false)",
    ),
    "variable-wins": (
        {},
        {"openshift_ops_images_in_process": True},
        {"OPENSHIFT_OPS_IMAGES_IN_PROCESS": "no"},
        IN_PROCESS_MARK,
    ),
}


@pytest.mark.parametrize("case", sorted(PATH_CASES))
def test_what_decides_the_path(sandbox: Sandbox, kube: Kube, namespace: str, case: str) -> None:
    extra_task_keywords, extra_vars, env, mark = PATH_CASES[case]
    play = yaml.safe_load(TAG_TASK)
    play[0]["tasks"][0].update(extra_task_keywords)
    completed = PlaybookRunner(sandbox)(
        yaml.safe_dump(play), extra_vars={"ns": namespace, "tag": "t1", **extra_vars}, verbosity=3, env=env
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    assert marks(output) == [mark]
    stream = kube.get(f"/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams/app")
    assert [tag["name"] for tag in stream["spec"]["tags"]] == ["t1"]


def test_a_switch_that_is_not_a_boolean_fails_the_task(sandbox: Sandbox, namespace: str) -> None:
    completed = PlaybookRunner(sandbox)(
        TAG_TASK, extra_vars={"ns": namespace, "tag": "t1", "openshift_ops_images_in_process": "sometimes"}
    )
    assert completed.returncode != 0
    assert "the variable openshift_ops_images_in_process must be a boolean (true or false), not 'sometimes'" in (
        completed.stdout
    )


DEFAULTS_PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/openshift_ops.images.openshift:
      kubeconfig: "{{ admin_kubeconfig }}"
  tasks:
    - name: Connection from module_defaults of the action group
      openshift_ops.images.image_tag:
        namespace: "{{ ns }}"
        source: registry.example.com/paths/app:1.0
        source_type: DockerImage
        reference: true
        dest: ["app:from-defaults"]
    - name: Connection from the task's environment
      openshift_ops.images.image_tag:
        namespace: "{{ ns }}"
        kubeconfig: "{{ omit }}"
        source: registry.example.com/paths/app:1.0
        source_type: DockerImage
        reference: true
        dest: ["app:from-environment"]
      environment:
        K8S_AUTH_KUBECONFIG: "{{ admin_kubeconfig }}"
      module_defaults: {}
"""


@pytest.mark.parametrize("path", sandbox_support.EXECUTION_PATHS)
def test_module_defaults_and_the_task_environment_reach_the_core(
    sandbox: Sandbox, kube: Kube, namespace: str, path: str
) -> None:
    # Nothing in the process's own environment says where the cluster is.
    no_cluster = {"KUBECONFIG": None, "K8S_AUTH_KUBECONFIG": None, "HOME": str(Path(sandbox.state_dir) / "nohome")}
    completed = PlaybookRunner(sandbox, path=path)(
        DEFAULTS_PLAY, extra_vars={"ns": namespace, "admin_kubeconfig": sandbox.kubeconfig}, verbosity=3, env=no_cluster
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    assert len(marks(output)) == 2 and all(
        m.startswith(IN_PROCESS_MARK if path == "in_process" else MODULE_MARK) for m in marks(output)
    )
    stream = kube.get(f"/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams/app")
    assert sorted(tag["name"] for tag in stream["spec"]["tags"]) == ["from-defaults", "from-environment"]
