"""The event source file as ansible-rulebook loads it (by path, from the installed collection): its entry point, how
it makes the collection importable, and its documentation against the argument spec it validates with."""

from __future__ import annotations

import asyncio
import inspect
import runpy
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import ansible_collections.openshift_ops.images as collection_package
from ansible_collections.openshift_ops.images.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.changes import EVENT_KEY
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.request import (
    argument_spec,
    validated_arguments,
)

SOURCE = "extensions/eda/plugins/event_source/image_stream_events.py"
# The collection as ansible-galaxy lists it: under ansible_collections/openshift_ops/images (a symbolic link to the
# checkout in the development tree).
COLLECTION = Path(next(iter(collection_package.__path__)))
REPOSITORY = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def plugin() -> dict[str, Any]:
    """The source's globals, run by path as ansible-rulebook's ``runpy.run_path`` runs it."""
    return runpy.run_path(str(COLLECTION / SOURCE))


def test_the_entry_point_is_the_coroutine_ansible_rulebook_awaits(plugin: dict[str, Any]) -> None:
    assert inspect.iscoroutinefunction(plugin["main"])
    assert list(inspect.signature(plugin["main"]).parameters) == ["queue", "args"]


def test_main_checks_its_arguments_before_anything_else(plugin: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="unsupported arguments: url"):
        asyncio.run(plugin["main"](asyncio.Queue(), {"url": "https://api.example.com:6443"}))


def test_the_collection_it_lies_in_becomes_importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "ansible_collections/openshift_ops/images" / SOURCE
    installed.parent.mkdir(parents=True)
    shutil.copy(COLLECTION / SOURCE, installed)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry != str(tmp_path)])
    runpy.run_path(str(installed))["_collection_importable"]()
    assert sys.path[-1] == str(tmp_path)

    elsewhere = tmp_path / "checkout" / SOURCE
    elsewhere.parent.mkdir(parents=True)
    shutil.copy(COLLECTION / SOURCE, elsewhere)
    with pytest.raises(ImportError, match="is not inside ansible_collections/openshift_ops/images/: install"):
        runpy.run_path(str(elsewhere))["_collection_importable"]()


def documented_options(plugin: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The source's options with those of the doc fragments it extends, as ansible-doc would merge them."""
    documentation = yaml.safe_load(plugin["DOCUMENTATION"])
    assert documentation["extends_documentation_fragment"] == ["openshift_ops.images.connection"]
    return yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"] | documentation["options"]


def test_the_documentation_matches_the_argument_spec(plugin: dict[str, Any]) -> None:
    documented, spec = documented_options(plugin), argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert sorted(doc.get("aliases", [])) == sorted(option.get("aliases", [])), name
        assert doc.get("elements") == option.get("elements"), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc["description"], name


def test_the_examples_are_rulebooks_whose_source_arguments_are_valid(plugin: dict[str, Any]) -> None:
    rulebooks = yaml.safe_load(plugin["EXAMPLES"])
    assert len(rulebooks) == 2
    for rulebook in rulebooks:
        [source] = rulebook["sources"]
        validated_arguments(source["openshift_ops.images.image_stream_events"])
        assert all(f"event.{EVENT_KEY}." in rule["condition"] for rule in rulebook["rules"])


def test_the_guide_names_every_option_and_event_key(plugin: dict[str, Any]) -> None:
    guide = (REPOSITORY / "docs/image_stream_events.md").read_text(encoding="utf-8")
    own = yaml.safe_load(plugin["DOCUMENTATION"])["options"]
    keys = (
        "change",
        "namespace",
        "image_stream",
        "tag",
        "previous_image",
        "image",
        "image_reference",
        "source",
        "generation",
        "import_failure",
        "resource_version",
    )
    missing = [name for name in [*own, *keys] if f"`{name}`" not in guide]
    assert not missing, f"docs/image_stream_events.md does not name {missing}"
