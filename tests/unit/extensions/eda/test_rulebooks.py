"""The rulebooks of extensions/eda as ansible-rulebook reads them: its schema, its parser (conditions included), the
source and the playbooks they name found in the collection. Their run against a cluster is an integration test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_rulebook.collection import find_collection, has_playbook, has_source
from ansible_rulebook.conf import settings
from ansible_rulebook.rules_parser import parse_rule_sets
from ansible_rulebook.validators import Validate

import ansible_collections.openshift_ops.images as collection_package

COLLECTION = Path(next(iter(collection_package.__path__)))
RULEBOOKS = sorted((COLLECTION / "extensions/eda/rulebooks").glob("*.yml"))
# What each rulebook's header says to pass with --vars.
VARIABLES: dict[str, dict[str, Any]] = {
    "promote_new_images": {
        "promote_source_namespace": "builds",
        "promote_source_stream": "app",
        "promote_source_tag": "latest",
        "promote_targets": ["prod/app:stable"],
    },
    "report_import_failures": {"report_namespaces": ["builds"]},
}


@pytest.fixture(autouse=True)
def ansible_galaxy_finds_the_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    """ansible-rulebook finds collections with ansible-galaxy (the one beside this Python) in the collections path."""
    monkeypatch.setattr(settings, "ansible_galaxy_path", str(Path(sys.executable).parent / "ansible-galaxy"))
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION.parents[2]))
    find_collection.cache_clear()


def test_every_rulebook_has_its_variables_listed() -> None:
    assert sorted(path.stem for path in RULEBOOKS) == sorted(VARIABLES)


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda path: path.stem)
def test_ansible_rulebook_accepts_the_rulebook(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    Validate.rulebook(document)
    [rule_set] = parse_rule_sets(document, VARIABLES[path.stem])
    [source] = rule_set.sources
    assert source.source_name == "openshift_ops.images.image_stream_events"
    assert has_source("openshift_ops.images", "image_stream_events")
    for rule in rule_set.rules:
        for action in rule.actions:
            if action.action == "run_playbook":
                assert has_playbook(*action.action_args["name"].rsplit(".", 1))
