# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bytecode cache of shipped modules, on a real AnsiballZ payload of ``image_tag`` (kept with
``ANSIBLE_KEEP_REMOTE_FILES``) run in a fresh Python: which of our files were compiled is read from the ``compile``
audit events. Tracebacks and ``inspect`` are checked on a zip laid out as AnsiballZ lays it out."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils import _bytecode_cache

REPO = Path(__file__).resolve().parents[4]
MODULE_UTILS = "ansible_collections/openshift_ops/images/plugins/module_utils/"
# loaded before the cache is installed, so zipimport compiles them on every run
LOADED_BEFORE_THE_CACHE = {"__init__.py", "_bytecode_cache.py"}
# fails on its options once the whole core is imported, without a server
TASK = {
    "namespace": "bench",
    "source": "registry.example.com/app:1.0",
    "source_type": "DockerImage",
    "dest": ["Bad Name:stable"],
    "host": "http://127.0.0.1:9",
    "api_key": "token-not-used",
}
RUN_REPORTING_COMPILES = f"""
import runpy, sys
def report(event, args):
    if event == "compile" and isinstance(args[1], str) and {MODULE_UTILS!r} in args[1]:
        sys.stderr.write("compiled " + args[1].split({MODULE_UTILS!r})[1] + "\\n")
sys.addaudithook(report)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@dataclass(frozen=True)
class Run:
    result: dict[str, object]
    compiled: set[str]


@pytest.fixture(scope="module")
def payload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """image_tag's AnsiballZ payload, as Ansible ships it to a host."""
    remote = tmp_path_factory.mktemp("remote")
    environment = clean_environment(tmp_path_factory.mktemp("controller-home")) | {
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_KEEP_REMOTE_FILES": "1",
        "ANSIBLE_REMOTE_TMP": str(remote),
        "OPENSHIFT_OPS_IMAGES_IN_PROCESS": "false",
    }
    command = [str(Path(sys.executable).parent / "ansible"), "localhost", "-c", "local"]
    command += ["-m", "openshift_ops.images.image_tag", "-a", json.dumps(TASK)]
    subprocess.run(command, env=environment, capture_output=True, timeout=120, check=False)
    [kept] = remote.glob("*/AnsiballZ_image_tag.py")
    return kept


def clean_environment(home: Path | None, **settings: str) -> dict[str, str]:
    """The environment of a module on a host: no checkout on the path, no cache settings of whoever runs the tests."""
    unset = ("PYTHONPATH", "XDG_CACHE_HOME", "HOME", "OPENSHIFT_OPS_IMAGES_BYTECODE_CACHE")
    environment = {name: value for name, value in os.environ.items() if name not in unset}
    if home is not None:
        environment["HOME"] = str(home)
    return environment | settings


def run(payload: Path, environment: dict[str, str]) -> Run:
    completed = subprocess.run(
        [sys.executable, "-c", RUN_REPORTING_COMPILES, str(payload)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    compiled = {line.removeprefix("compiled ") for line in completed.stderr.splitlines() if line.startswith("compiled")}
    return Run(json.loads(completed.stdout), compiled)


def cache_of(home: Path) -> Path:
    return home / ".cache" / "openshift_ops.images" / "bytecode"


def test_the_payload_fails_on_its_options_after_importing_the_core(payload: Path, home: Path) -> None:
    first = run(payload, clean_environment(home))
    assert first.result["failed"] is True
    assert "invalid image stream name" in str(first.result["msg"])
    assert {"_image_tag/apply.py", "_kube/client.py", "_operation.py"} <= first.compiled


def test_a_second_run_compiles_none_of_our_module_utils(payload: Path, home: Path) -> None:
    first = run(payload, clean_environment(home))
    cached = sorted(path.name for path in cache_of(home).iterdir())
    second = run(payload, clean_environment(home))

    assert len(first.compiled - LOADED_BEFORE_THE_CACHE) > 20
    assert len(cached) == len(first.compiled - LOADED_BEFORE_THE_CACHE)
    assert any(name.startswith(f"{MODULE_UTILS.replace('/', '.')}_image_tag.plan-") for name in cached)
    assert second.compiled == LOADED_BEFORE_THE_CACHE
    assert second.result == first.result
    assert sorted(path.name for path in cache_of(home).iterdir()) == cached
    for path in (home / ".cache" / "openshift_ops.images", cache_of(home), *cache_of(home).iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_damaged_cache_file_is_compiled_again_and_replaced(payload: Path, home: Path) -> None:
    first = run(payload, clean_environment(home))
    [damaged] = cache_of(home).glob("*._image_tag.plan-*")
    truncated = damaged.read_bytes()[: damaged.stat().st_size // 2]
    damaged.write_bytes(truncated)
    [garbled] = cache_of(home).glob("*._kube.client-*")
    garbled.write_bytes(b"\0" * garbled.stat().st_size)

    second = run(payload, clean_environment(home))
    third = run(payload, clean_environment(home))

    assert second.compiled == LOADED_BEFORE_THE_CACHE | {"_image_tag/plan.py", "_kube/client.py"}
    assert damaged.read_bytes() != truncated  # written again, and read by the third run:
    assert third.compiled == LOADED_BEFORE_THE_CACHE
    assert first.result == second.result == third.result


def test_a_new_version_of_a_file_replaces_its_old_cache_file(payload: Path, home: Path) -> None:
    run(payload, clean_environment(home))
    [current] = cache_of(home).glob("*._image_tag.plan-*")
    older = current.with_name(current.name.rpartition("-")[0] + "-" + "0" * 64)
    current.rename(older)

    second = run(payload, clean_environment(home))

    assert "_image_tag/plan.py" in second.compiled
    assert [path.name for path in cache_of(home).glob("*._image_tag.plan-*")] == [current.name]


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_cache_directory_others_can_write_to_is_not_used(payload: Path, home: Path, mode: int) -> None:
    cache_of(home).mkdir(parents=True)
    cache_of(home).chmod(mode)

    for _run in range(2):
        assert len(run(payload, clean_environment(home)).compiled) > 20
    assert list(cache_of(home).iterdir()) == []


@pytest.mark.parametrize("linked", ["openshift_ops.images", "openshift_ops.images/bytecode"])
def test_a_linked_cache_directory_is_not_used(payload: Path, home: Path, tmp_path: Path, linked: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "bytecode").mkdir(parents=True, mode=0o700)
    elsewhere.chmod(0o700)
    link = home / ".cache" / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere if linked == "openshift_ops.images" else elsewhere / "bytecode")

    for _run in range(2):
        assert len(run(payload, clean_environment(home)).compiled) > 20
    assert list((elsewhere / "bytecode").iterdir()) == []


def test_the_cache_directory_of_xdg_cache_home(payload: Path, home: Path, tmp_path: Path) -> None:
    configured = tmp_path / "xdg"
    configured.mkdir()

    run(payload, clean_environment(home, XDG_CACHE_HOME=str(configured)))
    second = run(payload, clean_environment(home, XDG_CACHE_HOME=str(configured)))

    assert second.compiled == LOADED_BEFORE_THE_CACHE
    assert len(list((configured / "openshift_ops.images" / "bytecode").iterdir())) > 20
    assert not (home / ".cache").exists()


@pytest.mark.parametrize("value", ["off", "OFF", "false"])
def test_the_variable_switches_the_cache_off(payload: Path, home: Path, value: str) -> None:
    for _run in range(2):
        assert len(run(payload, clean_environment(home, OPENSHIFT_OPS_IMAGES_BYTECODE_CACHE=value)).compiled) > 20
    assert list(home.iterdir()) == []


def test_a_home_nothing_can_be_written_to_compiles_as_before(payload: Path, tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    expected = run(payload, clean_environment(tmp_path / "home-of-its-own")).result

    for home in (not_a_directory / "home", None):  # a home that cannot be created (even by root), and no HOME
        for _run in range(2):
            unusable = run(payload, clean_environment(home))
            assert len(unusable.compiled) > 20
            assert unusable.result == expected


def test_only_a_directory_of_ours_nobody_else_can_write_to_is_private() -> None:
    def status(mode: int, owner: int) -> os.stat_result:
        return os.stat_result((mode, 0, 0, 1, owner, 0, 0, 0, 0, 0))

    user = os.geteuid()
    assert _bytecode_cache.is_private(status(stat.S_IFDIR | 0o700, user), user)
    assert _bytecode_cache.is_private(status(stat.S_IFREG | 0o644, user), user)
    assert not _bytecode_cache.is_private(status(stat.S_IFDIR | 0o700, user + 1), user)
    assert not _bytecode_cache.is_private(status(stat.S_IFDIR | 0o720, user), user)
    assert not _bytecode_cache.is_private(status(stat.S_IFDIR | 0o702, user), user)


SHOW_A_FAILURE = """
import inspect, json, sys, traceback
compiled = []
sys.addaudithook(lambda event, args: compiled.append(args[1]) if event == "compile" else None)
sys.path.insert(0, sys.argv[1])
from ansible_collections.openshift_ops.images.plugins.module_utils._bytecode_cache import install_bytecode_cache
install_bytecode_cache()
from ansible_collections.openshift_ops.images.plugins.module_utils._kube import names
try:
    names.validate_namespace_name("Not A Namespace")
except Exception:
    shown = traceback.format_exc()
package = sys.modules["ansible_collections.openshift_ops.images.plugins.module_utils._kube"]
print(json.dumps({
    "traceback": shown,
    "source": inspect.getsource(names),
    "file": names.__file__,
    "origin": names.__spec__.origin,
    "cached": names.__cached__,
    "loader_source": names.__loader__.get_source(names.__name__),
    "package_file": package.__file__,
    "package_path": list(package.__path__),
    "finders": [type(finder).__name__ for finder in sys.meta_path],
    "compiled": names.__file__ in compiled,
}))
"""


def ansiballz_like_zip(path: Path) -> Path:
    """Our module_utils in a zip laid out as AnsiballZ lays it out, with the ``__init__.py`` files it adds."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        packages = MODULE_UTILS.rstrip("/").split("/")
        for depth in range(1, len(packages) + 1):
            archive.writestr("/".join(packages[:depth]) + "/__init__.py", "")
        for source in sorted((REPO / "plugins" / "module_utils").rglob("*.py")):
            archive.write(source, MODULE_UTILS + source.relative_to(REPO / "plugins" / "module_utils").as_posix())
    return path


def test_tracebacks_and_inspect_read_the_source_from_the_zip(home: Path, tmp_path: Path) -> None:
    runs = []
    for number in range(2):  # compiled, then from the cache; a new zip each time, as each AnsiballZ run has
        archive = ansiballz_like_zip(tmp_path / f"payload-{number}.zip")
        completed = subprocess.run(
            [sys.executable, "-c", SHOW_A_FAILURE, str(archive)],
            env=clean_environment(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        runs.append((archive, json.loads(completed.stdout)))

    source = (REPO / "plugins" / "module_utils" / "_kube" / "names.py").read_text()
    for archive, shown in runs:
        file = f"{archive}/{MODULE_UTILS}_kube/names.py"
        assert f'File "{file}", line' in shown["traceback"]
        assert "raise InvalidInputError(" in shown["traceback"]
        assert shown["source"] == shown["loader_source"] == source
        assert shown["file"] == shown["origin"] == file
        assert shown["cached"] == f"{archive}/{MODULE_UTILS}_kube/__pycache__/names.{sys.implementation.cache_tag}.pyc"
        assert shown["package_file"] == f"{archive}/{MODULE_UTILS}_kube/__init__.py"
        assert shown["package_path"] == [f"{archive}/{MODULE_UTILS}_kube"]
        assert shown["finders"][0] == "_CachingFinder"
    assert [shown["compiled"] for _archive, shown in runs] == [True, False]


def test_imported_from_a_directory_the_cache_is_not_installed() -> None:
    script = (
        "import sys\n"
        "import ansible_collections.openshift_ops.images.plugins.modules.image_tag\n"
        "print([type(finder).__name__ for finder in sys.meta_path])\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "_CachingFinder" not in completed.stdout
