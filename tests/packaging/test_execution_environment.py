# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An execution environment with this collection, as docs/execution_environment.md tells users to define it.

``ansible-builder create`` writes the build context; no container engine or base image is reachable here, so the
image is not built. The two stages that need no container are replayed from the context instead: the galaxy
stage's ``ansible-galaxy collection install`` and the builder stage's ``introspect.py`` over what it installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from collection_tarball import REPO_ROOT, ansible_galaxy, build, galaxy_metadata, tarball_name

DOC = REPO_ROOT / "docs" / "execution_environment.md"
COLLECTION = "openshift_ops.images"
# Where the Containerfile's galaxy stage installs collections.
IMAGE_COLLECTIONS_PATH = "/usr/share/ansible/collections"


def documented_files() -> dict[str, str]:
    """The YAML examples of the doc, by the file name their first line gives (``# execution-environment.yml``)."""
    blocks = re.findall(r"^```yaml\n# (\S+)\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    return dict(blocks)


@pytest.fixture(scope="module")
def ansible_builder() -> Path:
    """ansible-builder 3.2 from the venv `make test-packaging` makes (ANSIBLE_BUILDER), or from PATH."""
    found = os.environ.get("ANSIBLE_BUILDER") or shutil.which("ansible-builder")
    if not found or not Path(found).is_file():
        pytest.fail("ansible-builder not found: run `make test-packaging`, which installs it", pytrace=False)
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True, timeout=60)
    assert version.stdout.strip().startswith("3.2."), f"ansible-builder 3.2 expected, found {version.stdout}"
    return Path(found)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def context(ansible_builder: Path, tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ansible-builder create`` in a directory holding the doc's two files and the tarball; the context."""
    project = tmp_path_factory.mktemp("ee")
    for name, body in documented_files().items():
        (project / name).write_text(body, encoding="utf-8")
    shutil.copy2(tarball, project / tarball.name)
    command = [str(ansible_builder), "create", "--file", "execution-environment.yml", "--context", "context"]
    completed = subprocess.run(
        [*command, "--output-filename", "Containerfile", "-v", "3"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, f"ansible-builder create failed:\n{completed.stdout}{completed.stderr}"
    assert "No matches" not in completed.stdout + completed.stderr, completed.stdout + completed.stderr
    return project / "context"


def test_the_doc_has_both_files_and_names_this_version() -> None:
    files = documented_files()
    assert set(files) == {"execution-environment.yml", "requirements.yml"}
    definition = yaml.safe_load(files["execution-environment.yml"])
    assert definition["version"] == 3
    assert definition["additional_build_files"] == [{"src": tarball_name(), "dest": "collections"}]
    requirements = yaml.safe_load(files["requirements.yml"])
    assert requirements == {"collections": [{"name": f"collections/{tarball_name()}", "type": "file"}]}


def test_containerfile_installs_the_collection_and_introspects_it(context: Path) -> None:
    steps = (context / "Containerfile").read_text(encoding="utf-8").splitlines()
    assert 'ARG EE_BASE_IMAGE="registry.access.redhat.com/ubi9/ubi:latest"' in steps
    assert 'ARG PYCMD="/usr/bin/python3.11"' in steps
    assert 'ARG PYPKG="python3.11"' in steps
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.17,<2.20 ansible-runner"' in steps
    galaxy = steps.index("FROM base AS galaxy")
    builder = steps.index("FROM base AS builder")
    final = steps.index("FROM base AS final")
    assert galaxy < builder < final
    assert "COPY _build /build" in steps[galaxy:builder]
    assert (
        "RUN ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"
        f' -r requirements.yml --collections-path "{IMAGE_COLLECTIONS_PATH}"'
    ) in steps[galaxy:builder]
    # The builder stage introspects what the galaxy stage installed; the final stage gets the collections.
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in steps[builder:final]
    introspect = [step for step in steps[builder:final] if "introspect.py introspect" in step]
    assert introspect == [
        "RUN $PYCMD /output/scripts/introspect.py introspect"
        " --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt"
    ]
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in steps[final:]
    assert "RUN /output/scripts/check_ansible $PYCMD" in steps[final:]


def test_context_holds_the_tarball_and_the_requirements(context: Path, tarball: Path) -> None:
    build_dir = context / "_build"
    assert (build_dir / "collections" / tarball.name).read_bytes() == tarball.read_bytes()
    assert yaml.safe_load((build_dir / "requirements.yml").read_text(encoding="utf-8")) == {
        "collections": [{"name": f"collections/{tarball.name}", "type": "file"}]
    }
    assert (build_dir / "scripts" / "introspect.py").is_file()


# --- the stages that need no container, replayed from the context -------------------------------------------------


@pytest.fixture(scope="module")
def image_collections(context: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The galaxy stage: its install command, run in a copy of ``_build`` (the stage's /build)."""
    stage = tmp_path_factory.mktemp("galaxy-stage")
    shutil.copytree(context / "_build", stage / "build")
    collections = stage / IMAGE_COLLECTIONS_PATH.lstrip("/")
    completed = subprocess.run(
        [ansible_galaxy(), "collection", "install", "-r", "requirements.yml", "--collections-path", str(collections)],
        cwd=stage / "build",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        # As in the image: no other collection path (the checkout's would count as "already installed").
        env={
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_GALAXY_DISABLE_GPG_VERIFY": "1",
            "ANSIBLE_NOCOLOR": "1",
        },
    )
    assert completed.returncode == 0, f"galaxy stage failed:\n{completed.stdout}{completed.stderr}"
    assert (installed(collections) / "MANIFEST.json").is_file(), f"nothing installed:\n{completed.stdout}"
    return collections


def installed(collections: Path) -> Path:
    return collections / "ansible_collections" / "openshift_ops" / "images"


def introspect(context: Path, collections: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    """The builder stage's introspection, with the context's own script and ansible-builder's Python (which has
    the PyYAML and packaging the stage installs)."""
    python = Path(os.environ.get("ANSIBLE_BUILDER") or shutil.which("ansible-builder") or "").parent / "python"
    completed = subprocess.run(
        [str(python), str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(collections)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    data = yaml.safe_load(completed.stdout.partition("---\n")[2]) if completed.returncode == 0 else None
    return completed, data


def test_galaxy_stage_installs_this_collection_with_its_declarations(image_collections: Path) -> None:
    root = installed(image_collections)
    assert yaml.safe_load((root / "meta" / "execution-environment.yml").read_text(encoding="utf-8")) == {
        "version": 1,
        "dependencies": {"python": "requirements.txt", "system": "bindep.txt"},
    }
    for name in ("requirements.txt", "bindep.txt"):
        assert (root / name).read_bytes() == (REPO_ROOT / name).read_bytes()
    manifest = yaml.safe_load((root / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["collection_info"]["version"] == galaxy_metadata()["version"]


def test_builder_stage_finds_no_requirement_in_this_collection(context: Path, image_collections: Path) -> None:
    completed, data = introspect(context, image_collections)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert data == {"python": [], "system": []}


def test_introspection_reports_what_the_collection_would_declare(
    context: Path, image_collections: Path, tmp_path: Path
) -> None:
    """The empty answer above is this collection's: the same introspection of a copy that lists a package in each
    file reports both, attributed to the collection."""
    copy = tmp_path / "collections"
    shutil.copytree(image_collections, copy)
    with (installed(copy) / "requirements.txt").open("a", encoding="utf-8") as requirements:
        requirements.write("kubernetes>=30  # a client this collection does not use\n")
    with (installed(copy) / "bindep.txt").open("a", encoding="utf-8") as bindep:
        bindep.write("git [platform:rpm]\n")
    completed, data = introspect(context, copy)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert data == {
        "python": [f"kubernetes>=30  # from collection {COLLECTION}"],
        "system": [f"git [platform:rpm]  # from collection {COLLECTION}"],
    }


@pytest.mark.parametrize("declared", ["requirements.txt", "bindep.txt"])
def test_introspection_fails_when_a_declared_file_is_missing(
    context: Path, image_collections: Path, tmp_path: Path, declared: str
) -> None:
    """Why both files are shipped although they list nothing: the image build stops without them."""
    copy = tmp_path / "collections"
    shutil.copytree(image_collections, copy)
    (installed(copy) / declared).unlink()
    completed, _data = introspect(context, copy)
    assert completed.returncode != 0
    assert f"Expected requirements file not present at: {installed(copy) / declared}" in completed.stdout
