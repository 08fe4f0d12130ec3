# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users install and run it: the tarball ansible-galaxy builds, installed into an empty collections
path, its demo playbook run from the installed copy against the sandbox, with nothing of the checkout on any path.

The demo works in the projects demo-ci and demo-prod, as `make demo` does: it is idempotent, so it runs the same
after `make demo` or another run (projects left as `make demo` leaves them); the global pull secret it changes is
put back afterwards (``restore_seed``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from .leak_scan import LEAKS
from .sandbox_support import REPO_ROOT, Sandbox

COLLECTION = "openshift_ops.images"
MODULES = ("image_tag", "pull_secret", "secret_link", "image_puller_binding", "global_pull_secret")
ANSIBLE_BIN = Path(sys.executable).parent
CHECKOUT_DATA = (f"{REPO_ROOT}/.venv/", f"{REPO_ROOT}/.sandbox/")
RECAP = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=\d+\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.MULTILINE,
)


def _load_tarball_helpers() -> ModuleType:
    # tests/packaging is no package (its name would shadow the `packaging` distribution): load the file itself.
    path = REPO_ROOT / "tests" / "packaging" / "collection_tarball.py"
    spec = importlib.util.spec_from_file_location("collection_tarball", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


collection_tarball = _load_tarball_helpers()


@dataclass(frozen=True)
class Installed:
    tarball: Path
    collections: Path  # the only collections path of every run
    root: Path  # <collections>/ansible_collections/openshift_ops/images
    home: Path
    work: Path  # the current directory of every run


def isolated_env(sandbox: Sandbox, installed: Installed, **extra: str) -> dict[str, str]:
    """A new environment, not the caller's: the sandbox's coordinates, ansible-core's Python and the installed
    copy, and no PYTHONPATH; PATH holds the system directories (the demo runs kubectl from /usr/bin). ansible-core's
    commands are run by their absolute path."""
    env = {key: value for key, value in sandbox.env.items() if key != "PATH"}
    env.update(
        {
            "PATH": os.pathsep.join([str(installed.home / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(installed.home),
            "LANG": "C.UTF-8",
            "ANSIBLE_COLLECTIONS_PATH": str(installed.collections),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_LOCAL_TEMP": str(installed.home / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(installed.home / "ansible-remote-tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_NOCOLOR": "1",
            **extra,
        }
    )
    return env


def run(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def content_digests(root: Path) -> dict[str, str]:
    """sha256 of every file of the installed copy but Python's bytecode caches."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def installed(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("installed-tarball")
    tarball = collection_tarball.build(base / "build")
    problems = collection_tarball.member_problems(
        collection_tarball.members(tarball), collection_tarball.source_files()
    )
    assert problems == [], "\n".join(problems)
    collections = base / "collections"
    (base / "home" / "bin").mkdir(parents=True)
    (base / "work").mkdir()
    collections.mkdir()
    layout = Installed(
        tarball,
        collections,
        collections / "ansible_collections" / "openshift_ops" / "images",
        base / "home",
        base / "work",
    )
    env = isolated_env(sandbox, layout)
    galaxy = str(ANSIBLE_BIN / "ansible-galaxy")
    completed = run(
        [galaxy, "collection", "install", str(tarball), "--collections-path", str(collections)], env, layout.work
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"Installing '{COLLECTION}:" in completed.stdout, completed.stdout
    # The installed files are the tarball's (FILES.json checksums), before anything ran.
    verify = run([galaxy, "collection", "verify", "--offline", COLLECTION], env, layout.work)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return layout


def test_tarball_size_and_members(installed: Installed) -> None:
    shipped = collection_tarball.members(installed.tarball)
    print(f"{installed.tarball.name}: {installed.tarball.stat().st_size} bytes, {len(shipped)} files")
    assert not [name for name in shipped if name.startswith(("tests/", ".sandbox", ".venv", ".build", "benchmarks/"))]
    # ansible-galaxy installed exactly those files.
    assert sorted(content_digests(installed.root)) == shipped


def test_plugins_resolve_to_the_installed_copy_only(sandbox: Sandbox, installed: Installed, tmp_path: Path) -> None:
    env = isolated_env(sandbox, installed)
    assert "PYTHONPATH" not in env
    assert str(REPO_ROOT) not in env["PATH"] + env["ANSIBLE_COLLECTIONS_PATH"]
    listed = run([str(ANSIBLE_BIN / "ansible-galaxy"), "collection", "list", "--format", "json"], env, installed.work)
    assert listed.returncode == 0, listed.stderr
    where = [path for path, found in json.loads(listed.stdout).items() if COLLECTION in found]
    assert where == [str(installed.collections / "ansible_collections")]
    for plugin_type, names, directory in (("module", MODULES, "modules"), ("filter", ("image_ref",), "filter")):
        for name in names:
            doc = run(
                [str(ANSIBLE_BIN / "ansible-doc"), "--json", "-t", plugin_type, f"{COLLECTION}.{name}"],
                env,
                installed.work,
            )
            assert doc.returncode == 0, doc.stderr
            filename = json.loads(doc.stdout)[f"{COLLECTION}.{name}"]["doc"]["filename"]
            assert filename == str(installed.root / "plugins" / directory / f"{name}.py")
    # The same environment with an empty collections path finds no copy anywhere else (sys.path, ~/.ansible).
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = run(
        [str(ANSIBLE_BIN / "ansible-doc"), "--json", f"{COLLECTION}.image_tag"],
        {**env, "ANSIBLE_COLLECTIONS_PATH": str(empty)},
        installed.work,
    )
    assert f"{COLLECTION}.image_tag" not in json.loads(missing.stdout or "{}")
    assert "not found" in missing.stderr, missing.stderr


@pytest.mark.usefixtures("restore_seed")
@pytest.mark.parametrize("path", ["in_process", "module"])
def test_demo_runs_from_the_installed_copy(sandbox: Sandbox, installed: Installed, path: str) -> None:
    """The demo, by its FQCN on the in-process path and by its file on the shipped-module path, twice inside (its
    second pass must change nothing)."""
    before = content_digests(installed.root)
    playbook = f"{COLLECTION}.demo" if path == "in_process" else str(installed.root / "playbooks" / "demo.yml")
    env = isolated_env(sandbox, installed, OPENSHIFT_OPS_IMAGES_IN_PROCESS="false" if path == "module" else "true")
    command = [str(ANSIBLE_BIN / "ansible-playbook"), "-i", "localhost,", playbook, "--diff", "-vvv"]
    completed = run(command, env, installed.work, timeout=900)
    LEAKS.runs += 1
    LEAKS.record(f"installed demo ({path}): stdout", completed.stdout)
    LEAKS.record(f"installed demo ({path}): stderr", completed.stderr)
    output = completed.stdout
    assert completed.returncode == 0, output[-6000:] + completed.stderr[-3000:]
    recap = RECAP.search(output)
    assert recap is not None, output[-3000:]
    counts = {key: int(value) for key, value in recap.groupdict().items()}
    assert counts["failed"] == counts["unreachable"] == counts["rescued"] == counts["ignored"] == 0, recap.group(0)
    assert "Second pass: every task reported changed=false." in output
    # Where every piece came from: the installed copy, never the checkout. The only paths of the checkout in the
    # output are ansible-core's venv and, under `make test`, the sandbox's files (kubeconfig, CA).
    assert f"ansible collection location = {installed.collections}\n" in output, output[:2000]
    assert f"1 plays in {installed.root}/playbooks/demo.yml" in output
    assert output.count(f"included: {installed.root}/playbooks/tasks/demo_pass.yml for localhost") == 2
    for role in ("image_promotion", "cross_project_access"):
        assert f"task path: {installed.root}/roles/{role}/tasks/" in output
    checkout_paths = set(re.findall(re.escape(str(REPO_ROOT)) + r"/[^\s'\"]*", output))
    assert {path for path in checkout_paths if not path.startswith(CHECKOUT_DATA)} == set()
    if path == "module":
        for name in ("pull_secret", "image_tag", "global_pull_secret"):
            assert f"Using module file {installed.root}/plugins/modules/{name}.py" in output
        assert "running in the controller's process" not in output
    else:
        assert f"{COLLECTION}.pull_secret: running in the controller's process" in output
        assert f"Using module file {installed.root}" not in output
    # Running it wrote nothing into the installed collection (bytecode caches aside).
    assert content_digests(installed.root) == before
