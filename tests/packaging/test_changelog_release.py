# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The next release can be cut: `antsibull-changelog release --version 0.2.0` on a copy of the collection turns
every fragment into the release notes and lists the modules that are new in 0.2.0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from collection_tarball import REPO_ROOT, source_files

NEXT_VERSION = "0.2.0"
RELEASE_INPUTS = ("galaxy.yml", "changelogs/", "plugins/", "roles/", "meta/")


def antsibull_changelog() -> str:
    found = Path(sys.executable).with_name("antsibull-changelog")
    if not found.exists():
        pytest.fail("antsibull-changelog is not in the venv: run `make venv` (requirements-dev.txt pins it)")
    return str(found)


def fragment_entries() -> dict[str, list[str]]:
    """Every entry of every fragment that release notes show, by section (the release summary is a prelude, not a
    list; the trivial section, for changes users do not see, is never rendered)."""
    config = yaml.safe_load((REPO_ROOT / "changelogs" / "config.yaml").read_text())
    hidden = {config.get("trivial_section_name", "trivial")}
    entries: dict[str, list[str]] = {}
    for fragment in sorted((REPO_ROOT / "changelogs" / "fragments").glob("*.yml")):
        for section, value in (yaml.safe_load(fragment.read_text()) or {}).items():
            if section in hidden:
                continue
            items = [value] if isinstance(value, str) else list(value)
            entries.setdefault(section, []).extend(items)
    return entries


def new_modules() -> list[str]:
    found = []
    for module in sorted((REPO_ROOT / "plugins" / "modules").glob("*.py")):
        documentation = module.read_text().split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0]
        if str(yaml.safe_load(documentation)["version_added"]) == NEXT_VERSION:
            found.append(module.stem)
    return found


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("release")
    collection = root / "ansible_collections" / "openshift_ops" / "images"
    for name in source_files():
        if name.startswith(RELEASE_INPUTS):
            target = collection / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, target)
    # Only the copy is importable: the plugin docs antsibull-changelog reads must be this tree's.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env |= {"ANSIBLE_COLLECTIONS_PATH": str(root), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run(
        [antsibull_changelog(), "release", "--version", NEXT_VERSION, "--date", "2026-12-03"],
        cwd=collection,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return collection


def test_release_notes_hold_every_fragment_entry(released: Path) -> None:
    notes = (released / "CHANGELOG.rst").read_text()
    assert f"v{NEXT_VERSION}\n======" in notes
    entries = fragment_entries()
    assert entries, "no changelog fragment found"
    flat_notes = " ".join(notes.split())
    missing = []
    for section, items in entries.items():
        for item in items:
            # antsibull-changelog re-flows the text and turns ``x`` into RST literals; compare the words.
            words = " ".join(str(item).split())[:60].replace("``", "")
            if words not in flat_notes.replace("``", ""):
                missing.append(f"{section}: {words}")
    assert missing == []


def test_release_lists_the_new_modules_and_consumes_the_fragments(released: Path) -> None:
    notes = (released / "CHANGELOG.rst").read_text()
    modules = new_modules()
    for module in modules:
        assert f"openshift_ops.images.{module} - " in notes
    if modules:
        assert "New Modules" in notes
    assert list((released / "changelogs" / "fragments").glob("*.yml")) == []
    changes = yaml.safe_load((released / "changelogs" / "changelog.yaml").read_text())
    assert NEXT_VERSION in changes["releases"]
