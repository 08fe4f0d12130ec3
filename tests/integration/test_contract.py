# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract corpus (contract.py) replayed against the sandbox: every exchange recorded from the real
openshift-apiserver and openshift-controller-manager must get the same answer (status and normalised body) from the
servers running now. The differences that remain are deliberate, listed in DELIBERATE and in docs/sandbox.md."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from . import contract
from .sandbox_support import Sandbox, runs_real_openshift

# Resources of image.openshift.io/v1 the sandbox's own server does not serve: nothing in the collection, its tests,
# the demo or the roles uses them.
NOT_SERVED = {"imagesignatures", "imagestreammappings", "imagestreams/layers", "imagestreams/secrets", "imagetags"}
# The sandbox serves imagestreamtags for get, list and delete only (the collection writes tags through the stream).
TAG_VERBS_NOT_SERVED = {"create", "patch", "update"}


def _served_discovery(recorded: dict[str, Any]) -> dict[str, Any]:
    adjusted = copy.deepcopy(recorded)
    resources = [r for r in adjusted["body"]["resources"] if r["name"] not in NOT_SERVED]
    for resource in resources:
        if resource["name"] == "imagestreamtags":
            resource["verbs"] = [verb for verb in resource["verbs"] if verb not in TAG_VERBS_NOT_SERVED]
    adjusted["body"]["resources"] = resources
    return adjusted


# exchange name -> (why the sandbox differs, the recorded answer as the sandbox gives it)
DELIBERATE: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "discovery": (
        "imagesignatures, imagestreammappings, imagetags, imagestreams/layers and imagestreams/secrets are not "
        "served; imagestreamtags only for get, list and delete",
        _served_discovery,
    ),
}


@pytest.fixture(scope="module")
def replayed(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in contract.record_all(sandbox)}


def _recorded() -> dict[str, dict[str, Any]]:
    corpus = json.loads(contract.CORPUS.read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in corpus["exchanges"]}


RECORDED = _recorded()


def test_the_corpus_is_the_one_recorded() -> None:
    """The exchanges the corpus defines now are those recorded from the real servers, in the same order."""
    defined = [(exchange.name, exchange.method, exchange.path, exchange.as_user) for exchange in contract.exchanges()]
    recorded = [(entry["name"], entry["method"], entry["path"], entry["as"]) for entry in RECORDED.values()]
    assert defined == recorded
    assert len(defined) >= 100


@pytest.mark.parametrize("name", list(RECORDED))
def test_exchange_matches_the_real_servers(name: str, replayed: dict[str, dict[str, Any]], sandbox: Sandbox) -> None:
    recorded = RECORDED[name]
    if name in DELIBERATE and not runs_real_openshift(sandbox):
        recorded = DELIBERATE[name][1](recorded)
    answered = replayed[name]
    assert answered["status"] == recorded["status"], answered["body"]
    assert answered["body"] == recorded["body"]
