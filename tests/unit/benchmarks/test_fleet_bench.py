# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet benchmark's pure parts (benchmarks/floor.py, benchmarks/fleet.py): the runbook with each of our tasks
replaced, the host plan and its inventory, the growth and ratio arithmetic."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import fleet
import floor
import measure
import report
import request_floor
import workloads
from fleet_jobs import GROUP, Cluster, inventory_document

REPO = Path(__file__).resolve().parents[3]

ROLE_TASKS: list[dict[str, Any]] = [
    {"name": "Check", "ansible.builtin.assert": {"that": ["true"]}},
    {
        "name": "Pull secret",
        "openshift_ops.images.pull_secret": {"name": "s", "namespace": "{{ ns }}"},
        "loop": "{{ namespaces }}",
        "loop_control": {"loop_var": "ns"},
        "register": "secrets_result",
    },
    {"name": "Guarded", "block": [{"name": "Global", "openshift_ops.images.global_pull_secret": {}, "when": "go"}]},
]


def test_our_tasks_become_debug_twins_keeping_their_keywords() -> None:
    found = floor.Found()
    replaced = floor.replace_tasks(ROLE_TASKS, floor.debug_twin, found)
    assert replaced[0] == ROLE_TASKS[0]
    assert replaced[1] == {
        "name": "Pull secret",
        "loop": "{{ namespaces }}",
        "loop_control": {"loop_var": "ns"},
        "register": "secrets_result_replaced",
        "ansible.builtin.debug": {"msg": "in place of openshift_ops.images.pull_secret"},
    }
    assert replaced[2]["block"][0] == {
        "name": "Global",
        "when": "go",
        "ansible.builtin.debug": {"msg": "in place of openshift_ops.images.global_pull_secret"},
    }
    assert found.registers == {"secrets_result": ("pull_secret", "{{ namespaces }}")}
    assert "openshift_ops.images.pull_secret" in ROLE_TASKS[1]  # the input is left as it was


def test_our_roles_and_task_files_are_found_and_renamed() -> None:
    found = floor.Found()
    plays = floor.replace_in_playbook(
        [
            {
                "hosts": "all",
                "roles": ["openshift_ops.images.registry_onboarding", {"role": "other.ns.role"}],
                "tasks": [
                    {"ansible.builtin.import_tasks": "tasks/connection.yml"},
                    {"ansible.builtin.import_role": {"name": "openshift_ops.images.registry_onboarding"}},
                    {"ansible.builtin.include_tasks": "{{ templated }}.yml"},
                ],
            }
        ],
        floor.debug_twin,
        found,
    )
    assert plays[0]["roles"] == ["registry_onboarding", {"role": "other.ns.role"}]
    assert plays[0]["tasks"][1] == {"ansible.builtin.import_role": {"name": "registry_onboarding"}}
    assert found.roles == {"registry_onboarding"}
    assert found.task_files == {"tasks/connection.yml"}


def test_a_documented_return_gives_each_key_its_sample() -> None:
    source = 'RETURN = r"""\nadded:\n  description: x\n  returned: always\n  sample: [a]\nrollout:\n  type: dict\n"""\n'
    assert floor.documented_return(source) == {"added": ["a"], "rollout": None}


@pytest.mark.parametrize(
    ("loop", "expected"),
    [
        (None, {"reg": {"added": ["a"], "changed": False, "failed": False}}),
        (["x", "y"], {"reg": {"changed": False, "results": [{"added": ["a"], "changed": False, "failed": False}] * 2}}),
        (
            "{{ namespaces }}",
            {
                "reg_sample": {"added": ["a"], "changed": False, "failed": False},
                "reg": "{{ {'changed': false, 'results': [reg_sample] * ((namespaces) | length)} }}",
            },
        ),
    ],
)
def test_stand_ins_have_the_registered_shape(loop: Any, expected: dict[str, Any]) -> None:
    assert floor.stand_ins("reg", {"added": ["a"]}, loop) == expected


RUNBOOK = REPO / "playbooks" / "fleet_registry_access.yml"


@pytest.mark.parametrize("with_arguments", [False, True], ids=["fixed message", "the tasks' arguments"])
def test_the_runbooks_floor_runs_and_its_summaries_template(tmp_path: Path, with_arguments: bool) -> None:
    """The fleet runbook's floor has none of our tasks left and runs to the end on localhost: the summary tasks
    find the fields they template in the stand-ins. Given the tasks' arguments, it templates them and prints no
    password."""
    playbook, found = floor.write_replaced(
        RUNBOOK,
        tmp_path,
        floor.arguments_twin(floor.play_module_defaults(RUNBOOK)) if with_arguments else floor.debug_twin,
        roles_dir=REPO / "roles",
        modules_dir=REPO / "plugins" / "modules",
    )
    assert found.roles == {"registry_onboarding"}
    assert set(found.registers) == {"registry_onboarding_secrets", "registry_onboarding_global_result"}
    written = "\n".join(path.read_text(encoding="utf-8") for path in tmp_path.rglob("*.yml"))
    assert "openshift_ops.images.pull_secret:" not in written
    assert ("password: '{{ registry_onboarding_password | default(omit) }}'" in written) is with_arguments
    extra = {
        "fleet_hosts": "localhost",
        "openshift_kubeconfig": "/nonexistent",
        "registry_onboarding_server": "registry.example.com",
        "registry_onboarding_username": "robot",
        "registry_onboarding_password": "floor-passw0rd",
        "registry_onboarding_namespaces": ["team-a", "team-b"],
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / ".build" / "collections")
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
         "-e", yaml.safe_dump(extra, default_flow_style=True), str(playbook)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert fleet.recap_counts(completed.stdout)["localhost"] == {"ok": 11, "changed": 0, "unreachable": 0, "failed": 0}
    assert "floor-passw0rd" not in completed.stdout + completed.stderr


def test_the_arguments_twin_is_given_the_module_defaults_then_the_tasks_arguments() -> None:
    defaults = {
        floor.GROUP: {"kubeconfig": "{{ k }}", "context": "{{ c }}"},
        "openshift_ops.images.pull_secret": {"context": "own"},
        "ansible.builtin.uri": {"timeout": 5},
    }
    replaced = floor.replace_tasks(ROLE_TASKS, floor.arguments_twin(defaults), floor.Found())
    assert replaced[1]["ansible.builtin.debug"] == {
        "msg": {"kubeconfig": "{{ k }}", "context": "own", "name": "s", "namespace": "{{ ns }}"}
    }
    assert replaced[1]["no_log"] is True
    assert replaced[2]["block"][0]["ansible.builtin.debug"] == {"msg": {"kubeconfig": "{{ k }}", "context": "{{ c }}"}}


def test_the_runbooks_module_defaults_are_read_from_its_play() -> None:
    defaults = floor.play_module_defaults(RUNBOOK)
    assert set(defaults) == {floor.GROUP}
    assert defaults[floor.GROUP]["kubeconfig"] == "{{ openshift_kubeconfig | default(omit) }}"


@pytest.mark.parametrize(
    ("floor_seconds", "arguments", "reads", "expected"),
    [(10.0, 11.0, 1.0, 0.2), (10.0, 9.5, 0.5, 0.05), (None, 11.0, 1.0, None), (10.0, None, 1.0, None)],
)
def test_the_unavoidable_share_adds_templating_and_reads(
    floor_seconds: float | None, arguments: float | None, reads: float | None, expected: float | None
) -> None:
    value = fleet.unavoidable(floor_seconds, arguments, reads)
    assert value == pytest.approx(expected) if expected is not None else value is None


def test_the_reads_of_a_host_are_its_tasks_no_change_gets(tmp_path: Path) -> None:
    certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    cluster = {"server": "https://127.0.0.1:6443", "certificate-authority-data": encoded("CA")}
    user = {"client-certificate-data": encoded(certificate), "client-key-data": encoded("KEY")}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "current-context": "admin",
                "contexts": [{"name": "admin", "context": {"cluster": "c", "user": "u"}}],
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
            }
        ),
        encoding="utf-8",
    )
    reach = request_floor.reach_from_kubeconfig(str(kubeconfig))
    assert reach == request_floor.Reach("https://127.0.0.1:6443", "CA", None, certificate, "KEY")
    tasks = request_floor.host_tasks(reach, ("team-a", "team-b"), "registry")
    assert tasks == [
        [
            (reach, [f"/api/v1/namespaces/{ns}/secrets/registry", f"/api/v1/namespaces/{ns}/serviceaccounts/default"])
            for ns in ("team-a", "team-b")
        ],
        [(reach, ["/api/v1/namespaces/openshift-config/secrets/pull-secret"])],
    ]


def test_the_peer_replaces_pull_secret_and_leaves_out_the_global_entry() -> None:
    task = {"name": "Pull secret", "loop": "{{ registry_onboarding_namespaces }}", "loop_control": {"loop_var": "n"}}
    secret, read, link = fleet.peer_tasks("pull_secret", task, {})
    assert secret["kubernetes.core.k8s"]["definition"]["kind"] == "Secret"
    assert "loop_control" not in secret
    assert read["register"] == "peer_service_accounts"
    assert link["loop"] == "{{ peer_service_accounts.results }}"
    assert "union" in link["kubernetes.core.k8s"]["definition"]["imagePullSecrets"]
    assert fleet.peer_tasks("global_pull_secret", {"name": "Global"}, {}) == []


def test_the_host_plan_alternates_clusters_and_gives_each_host_its_namespaces() -> None:
    hosts = fleet.host_plan(2, "abc")
    assert [(host.name, host.cluster) for host in hosts] == [("a-001", 0), ("b-001", 1), ("a-002", 0), ("b-002", 1)]
    assert hosts[1].namespaces == ("fleet-abc-b001-1", "fleet-abc-b001-2")
    assert [host.name for host in fleet.subset(hosts, 2)] == ["a-001", "b-001"]
    assert fleet.growth_sizes(100) == (25, 50, 100)


def test_the_inventory_holds_each_host_with_its_connection_and_vaulted_token() -> None:
    clusters = [
        Cluster("a-001", None, None, {"openshift_kubeconfig": "/k", "registry_onboarding_namespaces": ["n1"]}),
        Cluster("b-001", None, None, {"openshift_host": "https://h"}, vaulted={"openshift_api_key": "t"}),
    ]
    document = inventory_document(clusters)
    assert document[GROUP]["vars"]["ansible_connection"] == "local"
    assert document[GROUP]["hosts"] == {
        "a-001": {"openshift_kubeconfig": "/k", "registry_onboarding_namespaces": ["n1"]},
        "b-001": {"openshift_host": "https://h", "openshift_api_key": "{{ vault_openshift_api_key }}"},
    }


@pytest.mark.parametrize(
    ("times", "ratio", "linear"),
    [
        ({25: 10.0, 50: 15.0, 100: 25.0}, 0.625, True),  # a fixed start-up cost: dearer per host when small
        ({25: 10.0, 50: 20.0, 100: 40.0}, 1.0, True),
        ({25: 10.0, 50: 25.0, 100: 60.0}, 1.5, False),
    ],
)
def test_growth_is_linear_when_the_time_per_host_does_not_grow(
    times: dict[int, float], ratio: float, linear: bool
) -> None:
    row = fleet.growth_rows(times)
    assert row["largest_over_scaled_smallest"] == pytest.approx(ratio)
    assert row["linear"] is linear
    assert row["per_host"]["100"] == pytest.approx(times[100] / 100)


def test_ratio_and_problems() -> None:
    assert fleet.ratio(12.0, 10.0) == pytest.approx(1.2)
    assert fleet.ratio(None, 10.0) is None
    counts = {
        "a": {"ok": 11, "changed": 0, "unreachable": 0, "failed": 0},
        "b": {"ok": 9, "changed": 1, "unreachable": 0, "failed": 1},
        "c": {"ok": 11, "changed": 2, "unreachable": 0, "failed": 0},
    }
    assert fleet.problems(counts, ["a", "b", "c", "d"], converge=False) == [
        "b: failed=1 unreachable=0",
        "c: changed=2",
        "d: not in the recap",
    ]
    assert fleet.problems(counts, ["a", "c"], converge=True) == ["a: changed=0"]
    assert fleet.problems(counts, ["a", "c"], converge=None) == []


def test_the_report_gives_both_floors_targets_and_what_no_module_can_leave_out() -> None:
    results = {
        "hosts": 100,
        "ratios": {"1": 1.41},
        "ratios_arguments": {"1": 1.18},
        "unavoidable": {"1": 0.25},
        "request_floor": {"1": {"median": 2.61, "min": 2.5, "requests": 500, "connections": 300}},
    }
    assert report.fleet_targets(results) == [
        ("fleet runbook, 100 hosts, no change, forks 1 ≤ 1.2 × the debug floor", 1.41, 1.2),
        ("fleet runbook, 100 hosts, no change, forks 1 ≤ 1.2 × the debug floor given the tasks' arguments", 1.18, 1.2),
    ]
    assert report.unavoidable_note(results)[-2] == "| 1 | 1.41 × | 1.18 × | 2.61 s (fastest 2.50) | 500, 300 | 0.25 × |"
    assert report.unavoidable_note({"ratios": {}}) == []


def test_paired_durations_split_each_operation_at_the_modules_first_task() -> None:
    names = ["op0 ping", "op0 main", "op1 ping", "op1 main", "op2 ping", "op2 main", "bench end"]
    clocks = [0.0, 0.3, 0.7, 1.0, 1.4, 1.8, 2.1]
    timer = {
        "tasks": [
            {"name": name, "clock": clock, "status": "ok", "changed": False}
            for name, clock in zip(names, clocks, strict=True)
        ]
    }
    pings, ours, outcomes = measure.paired_durations(timer, 2)
    assert pings == pytest.approx([0.3, 0.4])
    assert ours == pytest.approx([0.4, 0.3])
    assert [outcome["name"] for outcome in outcomes] == ["op1 main", "op2 main"]
    playbook = measure.paired_playbook(
        workloads.Workload("w", "module", "image_tag", False, tasks=lambda _i: [{"name": "main", "x.y": {}}]), 1
    )
    assert [task["name"] for task in playbook[0]["tasks"]] == [*names[:4], "bench end"]


def test_the_shipped_target_takes_the_side_by_side_ratio_when_there_is_one() -> None:
    latency = [
        {"tool": "ping", "module": "", "change": False, "median": 0.25},
        {"tool": "module", "module": "image_tag", "change": False, "median": 0.35},
    ]
    paired = [{"module": "image_tag", "wrong_count": 0, "ratio": 1.15}]

    def shipped_image_tag(results: dict[str, Any]) -> list[dict[str, Any]]:
        return [t for t in report.targets(results) if t["target"].startswith("image_tag, shipped")]

    shipped = shipped_image_tag({"latency": latency})
    assert [(t["value"], t["met"]) for t in shipped] == [(pytest.approx(1.4), False)]
    shipped = shipped_image_tag({"latency": latency, "paired": paired})
    assert [(t["target"], t["value"], t["met"]) for t in shipped] == [
        ("image_tag, shipped module, no change ≤ 1.2 × ping (side by side)", 1.15, True)
    ]


def test_cpu_busy_is_the_share_of_time_not_idle_between_two_readings() -> None:
    before = "cpu  100 0 100 700 100 0 0 0 0 0"
    after = "cpu  150 0 150 1000 100 0 0 0 0 0"  # 100 busy, 300 idle
    assert fleet.cpu_busy((before, after)) == pytest.approx(0.25)
    assert fleet.cpu_busy((before, before)) == 0.0


def test_the_median_of_repeats_keeps_every_repeats_seconds_and_problems() -> None:
    hosts = [fleet.Host("a-001", 0, ("ns",))]
    fine = {"a-001": {"ok": 11, "changed": 0, "unreachable": 0, "failed": 0}}
    failed = {"a-001": {"ok": 5, "changed": 0, "unreachable": 0, "failed": 1}}
    runs = [
        {"seconds": 3.0, "counts": fine, "tail": ""},
        {"seconds": 1.0, "counts": failed, "tail": "boom"},
        {"seconds": 2.0, "counts": fine, "tail": ""},
    ]
    chosen = fleet.median_run(runs)
    assert chosen["seconds"] == 2.0
    assert chosen["repeats"] == [3.0, 1.0, 2.0]
    row = fleet.measured(chosen, hosts, converge=False)
    assert row["repeats"] == [3.0, 1.0, 2.0]
    assert row["wrong_count"] == 1


def test_a_fleet_only_run_keeps_the_days_other_sections_and_the_earlier_fleet() -> None:
    import run  # noqa: PLC0415 - the bench's entry point, only for this test

    earlier = {"date": "2026-12-07", "latency": [{"workload": "ping"}], "fleet": {"hosts": 100, "runs": ["first"]}}
    fleet_run = {"fleet": {"hosts": 100, "runs": ["again"]}, "load_before": 0.5, "load_after": 1.5}
    merged = run.with_earlier_sections(fleet_run, earlier)
    assert merged["latency"] == earlier["latency"]
    assert merged["fleet"] == {"hosts": 100, "runs": ["again"]}
    assert merged["fleet_earlier_run"] == {"hosts": 100, "runs": ["first"]}
    assert merged["fleet_load"] == {"before": 0.5, "after": 1.5}
    assert earlier["fleet"] == {"hosts": 100, "runs": ["first"]}  # the earlier results are not changed in place
