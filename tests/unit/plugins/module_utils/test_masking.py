# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking with only the secrets that occur gives exactly what masking with all of them gives."""

from __future__ import annotations

from typing import Any

from ansible.module_utils.common.parameters import remove_values
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._masking import secrets_in

# a small alphabet, so that secrets overlap, nest and occur in one another often
ALPHABET = "ab*:x"
texts = st.text(alphabet=ALPHABET, max_size=14)
secrets = st.lists(st.text(alphabet=ALPHABET, max_size=9), max_size=8, unique=True)
values = st.recursive(
    texts | st.integers(-50, 50) | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
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
