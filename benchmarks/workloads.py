# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``make bench`` runs: one operation per module, done by each tool the way its users write it.

An operation is a list of tasks (one for our modules, three for a kubernetes.core read-merge-write) or, for oc,
a list of commands (one process each). ``op(i)`` builds the i-th operation: a "change" workload alternates
between two states so that every operation changes something; a "no change" workload repeats one state, which
operation 0 (the warm-up, never timed) establishes. The oc workloads exist only when the user supplies oc
(``SANDBOX_OPENSHIFT_BIN``): the sandbox has no oc of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODULES = ("image_tag", "pull_secret", "secret_link", "image_puller_binding", "global_pull_secret")
PULLER_ROLE = "system:image-puller"
LINKED_SECRET = "bench-pull"
GLOBAL = {"namespace": "openshift-config", "name": "pull-secret"}

Task = dict[str, Any]
Command = list[str]


@dataclass(frozen=True)
class Names:
    """The bench's projects: ``namespace`` holds what the operations change; ``other`` is the project whose
    service accounts (one per image-puller workload, so that no two workloads grant the same subject) are granted
    pulling."""

    namespace: str
    other: str


@dataclass(frozen=True)
class Workload:
    key: str  # unique, also names the objects it changes
    tool: str  # debug, ping, in_process, module, k8s, oc
    module: str  # one of MODULES, or "" for debug/ping
    change: bool
    tasks: Callable[[int], list[Task]] | None = None
    commands: Callable[[int], list[Command]] | None = None

    @property
    def label(self) -> str:
        kind = "change" if self.change else "no change"
        return f"{self.tool} {self.module} ({kind})" if self.module else self.tool


def _password(index: int, change: bool) -> str:
    return "bench-passw0rd-b" if change and index % 2 else "bench-passw0rd-a"


def _present(index: int, change: bool) -> bool:
    return not (change and index % 2)


def _source(index: int, change: bool) -> str:
    return f"registry.example.com/bench/app:{'2.0' if change and index % 2 else '1.0'}"


def _pick(module: str, *builders: Callable[[int], Any]) -> Callable[[int], Any]:
    """The builder for ``module``, from one builder per module given in the order of MODULES."""
    return dict(zip(MODULES, builders, strict=True))[module]


def _main(module: str, options: dict[str, Any], **keywords: Any) -> Task:
    return {"name": "main", module: options, **keywords}


# --------------------------------------------------------------------------------------------------------------
# openshift_ops.images


def ours(module: str, names: Names, key: str, change: bool) -> Callable[[int], list[Task]]:
    fqcn = f"openshift_ops.images.{module}"

    def image_tag(index: int) -> dict[str, Any]:
        return {
            "namespace": names.namespace,
            "source": _source(index, change),
            "source_type": "DockerImage",
            "reference": True,
            "dest": [f"{key}:stable"],
        }

    def pull_secret(index: int) -> dict[str, Any]:
        registries = [{"server": "registry.example.com", "username": "robot", "password": _password(index, change)}]
        return {"namespace": names.namespace, "name": key, "registries": registries}

    def secret_link(index: int) -> dict[str, Any]:
        return {
            "namespace": names.namespace,
            "service_account": key,
            "secrets": [LINKED_SECRET],
            "purpose": ["pull"],
            "state": "present" if _present(index, change) else "absent",
        }

    def image_puller_binding(index: int) -> dict[str, Any]:
        return {
            "namespace": names.namespace,
            "service_accounts": [f"{names.other}:{key}"],
            "binding_name": key,
            "state": "present" if _present(index, change) else "absent",
        }

    def global_pull_secret(index: int) -> dict[str, Any]:
        server = f"{key}.bench.example.com"
        return {"registries": [{"server": server, "username": "robot", "password": _password(index, change)}]}

    options = _pick(module, image_tag, pull_secret, secret_link, image_puller_binding, global_pull_secret)
    return lambda index: [_main(fqcn, options(index))]


# --------------------------------------------------------------------------------------------------------------
# kubernetes.core, as its users write these operations


def _auth_expression(password: str) -> str:
    return f"('robot:{password}') | b64encode"


def k8s(module: str, names: Names, key: str, change: bool) -> Callable[[int], list[Task]]:
    def image_tag(index: int) -> list[Task]:
        stream = {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": key, "namespace": names.namespace},
            "spec": {
                "tags": [
                    {
                        "name": "stable",
                        "from": {"kind": "DockerImage", "name": _source(index, change)},
                        "reference": True,
                    }
                ]
            },
        }
        return [_main("kubernetes.core.k8s", {"state": "present", "definition": stream})]

    def pull_secret(index: int) -> list[Task]:
        document = (
            "{{ {'auths': {'registry.example.com': {'auth': "
            + _auth_expression(_password(index, change))
            + "}}} | to_json | b64encode }}"
        )
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": key, "namespace": names.namespace},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": document},
        }
        return [_main("kubernetes.core.k8s", {"state": "present", "definition": secret}, no_log=True)]

    def secret_link(index: int) -> list[Task]:
        combine = "union" if _present(index, change) else "difference"
        account = {"kind": "ServiceAccount", "namespace": names.namespace, "name": key}
        wanted = (
            "{{ account.resources[0].imagePullSecrets | default([]) | map(attribute='name') | "
            f"{combine}(['{LINKED_SECRET}']) | map('community.general.dict_kv', 'name') | list }}}}"
        )
        definition = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": key, "namespace": names.namespace},
            "imagePullSecrets": wanted,
        }
        return [
            {"name": "read", "kubernetes.core.k8s_info": account, "register": "account"},
            _main("kubernetes.core.k8s", {"state": "present", "definition": definition}),
        ]

    def image_puller_binding(index: int) -> list[Task]:
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": key, "namespace": names.namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER_ROLE},
            "subjects": [{"kind": "ServiceAccount", "name": key, "namespace": names.other}],
        }
        state = "present" if _present(index, change) else "absent"
        return [_main("kubernetes.core.k8s", {"state": state, "definition": binding})]

    def global_pull_secret(index: int) -> list[Task]:
        server = f"{key}.bench.example.com"
        merged = (
            "{{ current.resources[0].data['.dockerconfigjson'] | b64decode | from_json | "
            f"combine({{'auths': {{'{server}': {{'auth': {_auth_expression(_password(index, change))}}}}}}}, "
            "recursive=True) }}"
        )
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": dict(GLOBAL),
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "{{ merged | to_json | b64encode }}"},
        }
        return [
            {"name": "read", "kubernetes.core.k8s_info": {"kind": "Secret", **GLOBAL}, "register": "current"},
            {"name": "merge", "ansible.builtin.set_fact": {"merged": merged}, "no_log": True},
            _main("kubernetes.core.k8s", {"state": "present", "definition": secret}, no_log=True),
        ]

    return _pick(module, image_tag, pull_secret, secret_link, image_puller_binding, global_pull_secret)


# --------------------------------------------------------------------------------------------------------------
# oc, one process per command; ``{oc}``, ``{file}`` are filled in by the runner


def oc(module: str, names: Names, key: str, change: bool) -> Callable[[int], list[Command]]:
    ns = ["-n", names.namespace]

    def image_tag(index: int) -> list[Command]:
        return [["{oc}", "tag", "--source=docker", "--reference", _source(index, change), f"{key}:stable", *ns]]

    def pull_secret(index: int) -> list[Command]:
        create = [
            "{oc}",
            "create",
            "secret",
            "docker-registry",
            key,
            "--docker-server=registry.example.com",
            "--docker-username=robot",
            f"--docker-password={_password(index, change)}",
            "--dry-run=client",
            "-o",
            "json",
            *ns,
        ]
        # the two halves of `oc create ... --dry-run=client -o json | oc apply -f -`
        return [create, ["{oc}", "apply", "-f", "-", *ns]]

    def secret_link(index: int) -> list[Command]:
        if _present(index, change):
            return [["{oc}", "secrets", "link", key, LINKED_SECRET, "--for=pull", *ns]]
        return [["{oc}", "secrets", "unlink", key, LINKED_SECRET, *ns]]

    def image_puller_binding(index: int) -> list[Command]:
        verb = "add-role-to-user" if _present(index, change) else "remove-role-from-user"
        account = f"system:serviceaccount:{names.other}:{key}"
        return [["{oc}", "policy", verb, PULLER_ROLE, account, f"--rolebinding-name={key}", *ns]]

    def global_pull_secret(index: int) -> list[Command]:
        server = f"{key}.bench.example.com"
        where = ["-n", GLOBAL["namespace"]]
        return [
            [
                "{oc}",
                "get",
                f"secret/{GLOBAL['name']}",
                *where,
                '--template={{index .data ".dockerconfigjson" | base64decode}}',
                ">{file}",
            ],
            [
                "{oc}",
                "registry",
                "login",
                f"--registry={server}",
                f"--auth-basic=robot:{_password(index, change)}",
                "--to={file}",
            ],
            ["{oc}", "set", "data", f"secret/{GLOBAL['name']}", *where, "--from-file=.dockerconfigjson={file}"],
        ]

    return _pick(module, image_tag, pull_secret, secret_link, image_puller_binding, global_pull_secret)


def workloads(names: Names, *, with_oc: bool) -> list[Workload]:
    """Every workload of the latency section, in the order the report lists them; oc's only ``with_oc``."""
    found = [
        Workload("debug", "debug", "", False, tasks=lambda _i: [_main("ansible.builtin.debug", {"msg": "bench"})]),
        Workload("ping", "ping", "", False, tasks=lambda _i: [_main("ansible.builtin.ping", {})]),
    ]
    for module in MODULES:
        short = module.replace("_", "")[:10]
        for change in (False, True):
            suffix = "chg" if change else "same"
            for tool in ("in_process", "module", "k8s"):
                key = f"b-{short}-{tool.replace('_', '')[:6]}-{suffix}"
                builder = ours if tool != "k8s" else k8s
                found.append(Workload(key, tool, module, change, tasks=builder(module, names, key, change)))
            if with_oc:
                # oc's "no change" is the same command again: what it sends then is in the request counts
                key = f"b-{short}-oc-{suffix}"
                found.append(Workload(key, "oc", module, change, commands=oc(module, names, key, change)))
    return found
