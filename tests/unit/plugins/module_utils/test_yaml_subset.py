"""The kubectl YAML subset read without the yaml package: whatever it returns is what ``yaml.safe_load`` returns,
and anything else is left to PyYAML."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.yaml_subset import (
    _NUMBER_OR_TIMESTAMP,
    _not_a_string,
    read_block_yaml,
)


def _safe_load_or_error(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return "yaml rejects it"


KUBECTL_STYLE = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://api.example.com:6443
    tls-server-name: "api.internal"
  name: api-example-com:6443
contexts:
- context:
    cluster: api-example-com:6443
    namespace: project-a
    user: admin/api-example-com:6443
  name: project-a/api-example-com:6443/admin
current-context: project-a/api-example-com:6443/admin
kind: Config
preferences: {}
users:
- name: admin/api-example-com:6443
  user:
    token: sha256~0a1B2c3D
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      args:
      - get-token
      - --login=azurecli
      command: kubelogin
      env: null
      interactiveMode: IfAvailable
      provideClusterInfo: false
"""


@pytest.mark.parametrize(
    "text",
    [
        KUBECTL_STYLE,
        "---\n# written by hand\nclusters:\n  - name: c\n    cluster:\n      server: https://h\n\n",
        "a: 'it''s'\nb: \"quoted\"\nc: []\nd:\ne: ~\nf: TRUE\n",
        "token: 00a3d3\nother: 0o7\nplus: +abc\nurl: x:y\nlist: a, b\n",
    ],
)
def test_block_yaml_subset_reads_what_kubectl_writes(text: str) -> None:
    assert read_block_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\n",  # YAML 1.1 booleans, numbers, timestamps
        "a: 6443\n",
        "a: .5\n",
        "a: 2001-12-14\n",
        "on: x\n",
        "a: b # comment\n",
        "a: [x]\n",
        "a: &anchor x\n",
        "a: |\n  block\n",
        "a: b\n  c: d\n",  # a multi-line plain scalar
        "a: b\na: c\n",  # duplicate keys
        "a:\n   - x\n  - y\n",
        "- a\n",
        'a: "esc\\u0041"\n',
        "a:\tb\n",
        "a: caf\u00e9\n",
        "",
    ],
)
def test_block_yaml_subset_leaves_the_rest_to_pyyaml(text: str) -> None:
    assert read_block_yaml(text) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "  ", "    ", "- ", "  - ", "   "]),
            st.sampled_from(
                [
                    "a",
                    "b",
                    "key",
                    "on",
                    "-x",
                    "'q'",
                    '"d"',
                    "{}",
                    "[]",
                    "1",
                    "a b",
                    "x:y",
                    "#c",
                    "",
                    "--x",
                    "---",
                    "- -",
                ]
            ),
            st.sampled_from(
                ["", ":", ": ", ": v", ": 1", ": yes", ": 'it''s'", ': "x"', ": a: b", ": #", ": -", ": --l=x", ": - x"]
            ),
        ),
        max_size=8,
    )
)
def test_block_yaml_subset_never_disagrees_with_pyyaml(lines: list[tuple[str, str, str]]) -> None:
    text = "".join(f"{indent}{key}{rest}\n" for indent, key, rest in lines)
    document = read_block_yaml(text)
    assert document is None or document == _safe_load_or_error(text)


scalars = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    st.booleans(),
    st.none(),
    st.integers(),
)
keys = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=8)


@given(
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=12,
    ).map(lambda value: {"top": value})
)
def test_block_yaml_subset_round_trips_safe_dump(document: dict[str, Any]) -> None:
    for text in (yaml.safe_dump(document), yaml.safe_dump(document, indent=4, sort_keys=False)):
        read = read_block_yaml(text)
        assert read is None or read == document


def _pyyaml_resolves_to_a_string(text: str) -> bool:
    return yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"


@given(st.text(alphabet="0123456789-+._:eExXbBoOTtZ nNaAiIfFyYlLsSuUrR~<=\t", min_size=1, max_size=16))
def test_a_plain_scalar_is_a_string_exactly_when_pyyaml_resolves_one(text: str) -> None:
    # the words by a set, numbers and timestamps by a pattern compiled only for a scalar that starts like one
    assert _not_a_string(text) is not _pyyaml_resolves_to_a_string(text)


def test_a_kubeconfig_without_numbers_never_uses_the_number_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    patterns: list[str] = []
    fullmatch = re.fullmatch

    def spy(pattern: Any, text: str, flags: int = 0) -> re.Match[str] | None:
        patterns.append(pattern)
        return fullmatch(pattern, text, flags)

    monkeypatch.setattr(re, "fullmatch", spy)
    token_only = KUBECTL_STYLE.partition("- name: exec-user")[0]

    assert read_block_yaml(token_only) == yaml.safe_load(token_only)
    assert _NUMBER_OR_TIMESTAMP not in patterns
    assert read_block_yaml("port: 6443\n") is None  # a number: PyYAML's to load
    assert _NUMBER_OR_TIMESTAMP in patterns
