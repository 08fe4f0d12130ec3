# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built tarball holds what users need and nothing of the development tree (galaxy.yml's build_ignore)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from collection_tarball import (
    ESSENTIAL_MEMBERS,
    build,
    galaxy_metadata,
    member_problems,
    members,
    source_files,
)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("build"))


def test_members_are_what_users_need_and_nothing_else(tarball: Path) -> None:
    shipped = members(tarball)
    assert member_problems(shipped, source_files()) == []
    assert not [name for name in shipped if name.startswith(("tests/", ".sandbox", ".venv", ".build"))]
    print(f"{tarball.name}: {tarball.stat().st_size} bytes, {len(shipped)} files")


def test_manifest_declares_the_collection(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        extracted = archive.extractfile("MANIFEST.json")
        assert extracted is not None
        manifest = json.load(extracted)
    info = manifest["collection_info"]
    meta = galaxy_metadata()
    assert (info["namespace"], info["name"], info["version"]) == (meta["namespace"], meta["name"], meta["version"])
    assert info["dependencies"] == {}
    assert info["license"] == ["GPL-3.0-or-later"]


# The checks fail when they should: each kind of mistake, on a member list derived from the real one.


@pytest.fixture(scope="module")
def good_members(tarball: Path) -> list[str]:
    return members(tarball)


@pytest.mark.parametrize(
    "stray",
    [
        "tests/integration/test_image_tag.py",
        ".sandbox/env.sh",
        ".venv/bin/python",
        ".build/collections/x",
        "Makefile",
        "requirements-dev.txt",
        "extensions/molecule/shared/converge.yml",
        "benchmarks/run.py",
        "plugins/modules/leftover.py",  # in a shipped directory but not a file of the checkout
    ],
)
def test_a_stray_member_is_reported(good_members: list[str], stray: str) -> None:
    problems = member_problems([*good_members, stray], source_files())
    assert len(problems) == 1
    assert stray in problems[0]
    assert problems[0].startswith("not for users")


@pytest.mark.parametrize(
    "lost",
    [
        "plugins/module_utils/_errors.py",
        "docs/image_tag.md",
        "changelogs/config.yaml",
        "extensions/eda/rulebooks/report_import_failures.yml",
    ],
)
def test_a_missing_user_file_is_reported(good_members: list[str], lost: str) -> None:
    problems = member_problems([name for name in good_members if name != lost], source_files())
    assert problems == [f"missing, a user's file (a build_ignore pattern too broad?): {lost}"]


@pytest.mark.parametrize("essential", sorted(ESSENTIAL_MEMBERS))
def test_a_missing_essential_is_reported_even_when_git_lost_it_too(good_members: list[str], essential: str) -> None:
    sources = [path for path in source_files() if path != essential]
    problems = member_problems([name for name in good_members if name != essential], sources)
    assert problems == [f"missing essential file: {essential}"]


def test_missing_galaxy_metadata_is_reported(good_members: list[str]) -> None:
    problems = member_problems([name for name in good_members if name != "FILES.json"], source_files())
    assert problems == ["missing ansible-galaxy metadata: FILES.json"]
