# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection tarball as users get it: built with ansible-galaxy from this checkout, and what it must hold.

Used by the packaging tests and by ``tests/integration/test_installed_tarball.py`` (which loads this file by path:
this directory is deliberately not a package, its name would shadow the ``packaging`` distribution).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

# What a user of the collection gets: the content, its documentation and its declared requirements. Any other
# file of the checkout (tests, the sandbox, benchmarks, CI, the development tools) stays out of the tarball.
SHIPPED_DIRECTORIES = frozenset({"plugins", "roles", "playbooks", "docs", "meta", "changelogs"})
# Parts of other directories: what ansible-rulebook loads from the installed collection.
SHIPPED_SUBDIRECTORIES = ("extensions/eda/",)
SHIPPED_FILES = frozenset({"README.md", "LICENSE", "CHANGELOG.rst", "requirements.txt", "bindep.txt"})
# Written by ansible-galaxy into every tarball.
GALAXY_FILES = frozenset({"MANIFEST.json", "FILES.json"})
# Inside a shipped directory but a tool's cache, not content.
NOT_SHIPPED = frozenset({"changelogs/.plugin-cache.yaml"})
# Named in the failure message when one of these sneaks in: the checks below catch any other stray file too.
NEVER_SHIPPED = ("tests/", ".sandbox/", ".venv", ".build/", "benchmarks/", "extensions/molecule/", ".ci/", "Makefile")
# What users are told to rely on: a tarball without one of these is broken whatever the file list of git says.
ESSENTIAL_MEMBERS = frozenset(
    {
        "README.md",
        "LICENSE",
        "requirements.txt",
        "bindep.txt",
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "playbooks/demo.yml",
        "playbooks/promote_event_image.yml",
        "extensions/eda/plugins/event_source/image_stream_events.py",
        "extensions/eda/rulebooks/promote_new_images.yml",
        *(
            f"plugins/modules/{name}.py"
            for name in ("image_tag", "pull_secret", "secret_link", "image_puller_binding", "global_pull_secret")
        ),
        *(f"plugins/filter/{name}.py" for name in ("dockerconfigjson", "image_ref", "pull_policy")),
        *(
            f"roles/{name}/meta/argument_specs.yml"
            for name in ("cross_project_access", "registry_onboarding", "image_promotion")
        ),
    }
)


def galaxy_metadata() -> dict:
    """galaxy.yml of this checkout."""
    return yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))


def tarball_name() -> str:
    meta = galaxy_metadata()
    return f"{meta['namespace']}-{meta['name']}-{meta['version']}.tar.gz"


def ansible_galaxy() -> str:
    """The ansible-galaxy of the Python running the tests (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "ansible-galaxy"
    found = str(beside) if beside.exists() else shutil.which("ansible-galaxy")
    if not found:
        raise FileNotFoundError("ansible-galaxy not found: run the tests with the venv's Python (make venv)")
    return found


def build(output_dir: Path, *, source: Path = REPO_ROOT) -> Path:
    """``ansible-galaxy collection build`` of ``source`` into ``output_dir``; the tarball's path."""
    output_dir.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [ansible_galaxy(), "collection", "build", "--force", "--output-path", str(output_dir), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    assert completed.returncode == 0, f"ansible-galaxy collection build failed:\n{completed.stdout}{completed.stderr}"
    tarball = output_dir / tarball_name()
    assert tarball.is_file(), f"{tarball} was not written:\n{completed.stdout}"
    return tarball


def members(tarball: Path) -> list[str]:
    """The regular files of the tarball, relative to the collection root."""
    with tarfile.open(tarball) as archive:
        return sorted(member.name for member in archive.getmembers() if member.isfile())


def source_files(root: Path = REPO_ROOT) -> list[str]:
    """What the checkout holds, as git sees it (tracked and new files, not the ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split("\0")
    return sorted(path for path in listed if path and (root / path).is_file())


def is_shipped(path: str) -> bool:
    """Whether a file of the checkout belongs in the tarball."""
    top = path.split("/", 1)[0]
    if path in NOT_SHIPPED:
        return False
    return (
        (top in SHIPPED_DIRECTORIES and "/" in path) or path.startswith(SHIPPED_SUBDIRECTORIES) or path in SHIPPED_FILES
    )


def member_problems(shipped: Iterable[str], sources: Iterable[str]) -> list[str]:
    """Everything wrong with a tarball holding ``shipped``, built from a checkout holding ``sources``: files that
    are not for users, users' files that are missing, and missing essentials. Empty when the tarball is right."""
    shipped_set = set(shipped) - GALAXY_FILES
    wanted = {path for path in sources if is_shipped(path)}
    problems = []
    for path in sorted(shipped_set - wanted):
        reason = next((f" (never ship {marker})" for marker in NEVER_SHIPPED if path.startswith(marker)), "")
        problems.append(f"not for users, add it to build_ignore in galaxy.yml: {path}{reason}")
    problems.extend(
        f"missing, a user's file (a build_ignore pattern too broad?): {path}" for path in sorted(wanted - shipped_set)
    )
    problems.extend(f"missing essential file: {path}" for path in sorted(ESSENTIAL_MEMBERS - shipped_set))
    problems.extend(f"missing ansible-galaxy metadata: {name}" for name in sorted(GALAXY_FILES - set(shipped)))
    return problems
