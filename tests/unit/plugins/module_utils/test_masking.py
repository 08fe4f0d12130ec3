# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking with only the secrets that occur, and only the entries they occur in, gives exactly what masking the whole
result with all of them gives."""

from __future__ import annotations

import json
from typing import Any

from ansible.module_utils.common.parameters import remove_values
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._masking import masked, secrets_in

# a small alphabet, so that secrets overlap, nest and occur in one another often
ALPHABET = "ab*:x"
texts = st.text(alphabet=ALPHABET, max_size=14)
secrets = st.lists(st.text(alphabet=ALPHABET, max_size=9), max_size=8, unique=True)
values = st.recursive(
    texts | st.integers(-50, 50) | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
# a task result: entries of every kind, tuples too (remove_values turns them into lists, as JSON does)
results = st.dictionaries(
    texts,
    st.recursive(
        texts | st.integers(-50, 50) | st.floats(allow_nan=False) | st.booleans() | st.none(),
        lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(texts, inner, max_size=4),
        max_leaves=12,
    ),
    max_size=5,
)


@settings(max_examples=600, deadline=None)
@given(value=values, no_log=secrets)
def test_masking_with_the_secrets_found_equals_masking_with_all(value: Any, no_log: list[str]) -> None:
    assert remove_values(value, secrets_in(value, no_log)) == remove_values(value, no_log)


def test_only_secrets_that_occur_are_kept_in_the_given_order() -> None:
    result = {"registries": [{"server": "quay.io", "username": "robot"}], "count": 12345}
    no_log = ["hunter2-password", "robot", "cm9ib3Q6aHVudGVyMg==", "2345", "a*b*c", "ab", "", "o"]
    assert secrets_in(result, no_log) == ["robot", "2345", "a*b*c", "", "o"]


def test_a_secret_replaced_into_existence_is_kept() -> None:
    # replacing "abcd" makes "********x" appear, a secret that was not there before
    value = "abcdx"
    no_log = ["abcd", "********x", "zzzz"]
    assert secrets_in(value, no_log) == ["abcd", "********x"]
    assert remove_values(value, secrets_in(value, no_log)) == remove_values(value, no_log)


def test_thousands_of_entries_keep_only_what_occurs() -> None:
    result = {"registries": [{"server": f"r{n}.example.com", "username": f"user{n}"} for n in range(2000)]}
    no_log = [f"pass-{n}-word" for n in range(6000)] + ["user1999"]
    assert secrets_in(result, no_log) == ["user1999"]


def as_json(value: Any) -> str:
    """What the task result carries back (``masked_result`` passes the masked result through JSON)."""
    return json.dumps(value)


@settings(max_examples=600, deadline=None)
@given(result=results, no_log=secrets)
def test_masking_only_the_entries_a_secret_occurs_in_equals_masking_everything(
    result: dict[str, Any], no_log: list[str]
) -> None:
    assert as_json(masked(result, no_log)) == as_json(remove_values(result, no_log))


@settings(max_examples=200, deadline=None)
@given(result=results, no_log=st.lists(st.text(alphabet="yz", min_size=1, max_size=9), max_size=8, unique=True))
def test_a_result_no_secret_occurs_in_is_returned_as_it_is(result: dict[str, Any], no_log: list[str]) -> None:
    # the secrets' letters occur nowhere in the result: remove_values changes nothing, and masked does no work
    assert masked(result, no_log) == result
    assert as_json(remove_values(result, no_log)) == as_json(result)


def test_only_the_entry_holding_a_secret_is_masked() -> None:
    tags = [{"tag": f"t{n}", "from": ("DockerImage", f"registry.example.com/app:{n}")} for n in range(500)]
    result = {"changed": False, "tags": tags, "invocation": {"module_args": {"api_key": "sha256~token"}}}
    masked_result = masked(result, ["sha256~token", "unused-password"])
    assert masked_result["tags"] is tags  # not walked again
    assert masked_result["invocation"] == {"module_args": {"api_key": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}}
    assert as_json(masked_result) == as_json(remove_values(result, ["sha256~token", "unused-password"]))
