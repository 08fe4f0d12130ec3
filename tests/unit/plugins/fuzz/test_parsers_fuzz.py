# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every parser of user input under fuzzing: image references, stream tags, tag sources, registry keys, auth
documents, kubeconfigs and the YAML subset. Each input gives a value or one of our typed errors
(``ImagesError``), never another exception; and where a parser accepts, what it returns is checked against
what the input says.

Examples per test are fixed (``EXAMPLES``), about 110,000 in all, so that the suite is bounded in time.
"""

from __future__ import annotations

import base64
import json
import string
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ImagesError
from ansible_collections.openshift_ops.images.plugins.module_utils._images import reference
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.kubeconfig import parse_kubeconfig_text
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.yaml_subset import read_block_yaml
from ansible_collections.openshift_ops.images.plugins.module_utils._registry import (
    auth_document,
    redaction,
    registry_keys,
)

EXAMPLES = 10_000
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# The characters these grammars are about, so that near-valid inputs are common, plus anything at all.
REFERENCE_ALPHABET = string.ascii_lowercase + string.digits + "ABZ:/@._-+ " + "é\x00"
near_references = st.text(alphabet=REFERENCE_ALPHABET, max_size=80)
anything = st.text(max_size=80)
digests = st.builds(
    lambda algorithm, hexes: f"{algorithm}:{hexes}",
    st.sampled_from(["sha256", "sha512", "SHA256", "md5", ""]),
    st.text(alphabet="0123456789abcdefABX", max_size=70),
)
structured_references = st.builds(
    lambda host, path, tag, digest: host + path + (f":{tag}" if tag else "") + (f"@{digest}" if digest else ""),
    st.sampled_from(["", "quay.io/", "localhost:5000/", "registry.example.com:443/", "Docker.IO/", "a_b/"]),
    st.text(alphabet=string.ascii_lowercase + "/._-", min_size=1, max_size=40),
    st.text(alphabet=string.ascii_letters + string.digits + "._-", max_size=130),
    st.one_of(st.none(), digests),
)


def typed_or_value(call: Any, *args: Any, **kwargs: Any) -> Any:
    """The call's value, or None when it raised one of our typed errors; anything else fails the test."""
    try:
        return call(*args, **kwargs)
    except ImagesError as error:
        assert str(error), "a typed error must say what is wrong"
        return None


@fuzz
@given(spec=st.one_of(near_references, structured_references, anything))
def test_docker_references(spec: str) -> None:
    parsed = typed_or_value(reference.parse_docker_reference, spec)
    if parsed is not None:
        # what was accepted holds the parts it was written with (a bare registry has no name, as in library-go)
        assert parsed.name or parsed.registry
        for part in (parsed.registry, parsed.namespace, parsed.name):
            assert part in spec
        if parsed.tag:
            assert f":{parsed.tag}" in spec
        if parsed.digest:
            assert spec.endswith(f"@{parsed.digest}")
        assert parsed.exact() in spec


@fuzz
@given(image=st.one_of(near_references, structured_references, anything))
def test_image_normalisation(image: str) -> None:
    typed_or_value(reference.normalize_image, image)


@fuzz
@given(value=st.one_of(near_references, anything), check_tag=st.booleans())
def test_stream_tags(value: str, check_tag: bool) -> None:
    parsed = typed_or_value(reference.parse_stream_tag, value, default_namespace="team-a", check_tag=check_tag)
    if parsed is not None:
        # "stream" and "stream:" mean stream:latest, as library-go's SplitImageStreamTag has it
        assert value.endswith(f":{parsed.tag}") or (parsed.tag == "latest" and not value.partition(":")[2])
        assert parsed.stream in value


@fuzz
@given(
    source=st.one_of(near_references, structured_references, anything),
    source_type=st.sampled_from(
        ["auto", "ImageStreamTag", "ImageStreamImage", "DockerImage", "istag", "isimage", "docker", "bogus"]
    ),
)
def test_tag_sources(source: str, source_type: str) -> None:
    typed_or_value(reference.parse_source, source, source_type=source_type, current_namespace="team-a")


@fuzz
@given(value=st.one_of(near_references, digests, anything))
def test_names_tags_and_digests(value: str) -> None:
    for check in (
        reference.validate_tag_name,
        reference.validate_digest,
        reference.validate_namespace_name,
        reference.validate_stream_name,
    ):
        typed_or_value(check, value)


@fuzz
@given(key=st.one_of(near_references, st.text(alphabet=REFERENCE_ALPHABET + "hs", max_size=40), anything))
def test_registry_keys(key: str) -> None:
    checked = typed_or_value(registry_keys.validate_registry_key, key)
    if checked is not None:
        assert checked == key
        assert "://" not in key and "@" not in key and " " not in key


credentials = st.text(alphabet=string.printable + "é", max_size=24)
auth_values = st.one_of(
    st.builds(
        lambda user, password: base64.b64encode(f"{user}:{password}".encode()).decode(), credentials, credentials
    ),
    st.builds(lambda raw: base64.b64encode(raw).decode(), st.binary(max_size=24)),
    st.text(alphabet=string.ascii_letters + string.digits + "+/=:", max_size=40),
)
entries = st.dictionaries(
    st.sampled_from(["auth", "username", "password", "email", "identitytoken", "registrytoken", "other"]),
    st.one_of(auth_values, st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2)),
    max_size=4,
)
documents = st.one_of(
    st.builds(
        lambda auths: {"auths": auths}, st.dictionaries(st.one_of(near_references, anything), entries, max_size=4)
    ),
    st.dictionaries(
        st.sampled_from(["auths", "credHelpers", "credsStore", "x"]), st.one_of(entries, st.text()), max_size=3
    ),
)


@fuzz
@given(document=documents, as_text=st.booleans())
def test_auth_documents(document: dict[str, Any], as_text: bool) -> None:
    content: Any = json.dumps(document) if as_text else document
    loaded = typed_or_value(auth_document.load_auth_document, content, source="fuzz")
    if loaded is not None:
        # a document that loads can be summarised and searched for secrets without error
        redaction.summarize_document(loaded)
        redaction.document_secret_values(loaded)


@fuzz
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda raw: raw.decode("latin-1"))))
def test_auth_document_text(text: str) -> None:
    typed_or_value(auth_document.load_auth_document, text, source="fuzz")


yaml_scalars = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + " -_./:", max_size=20),
    st.integers(-1000, 1000),
    st.booleans(),
    st.none(),
)
yaml_keys = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(yaml_keys, inner, max_size=3),
    max_leaves=10,
)


@fuzz
@given(document=st.dictionaries(yaml_keys, yaml_values, min_size=1, max_size=5))
def test_yaml_subset_reads_what_pyyaml_writes(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, default_flow_style=False)
    read = read_block_yaml(text)
    # the subset may decline (None: PyYAML then decides), but what it reads is what PyYAML reads
    if read is not None:
        assert read == yaml.safe_load(text)


yaml_like = st.text(alphabet=string.ascii_letters + string.digits + " :-#'\"\n\t[]{}|>&*!%@`,?", max_size=160)


@fuzz
@given(text=st.one_of(yaml_like, st.text(max_size=160)))
def test_yaml_subset_on_any_text(text: str) -> None:
    read = read_block_yaml(text)
    if read is not None:
        assert isinstance(read, dict)
        try:
            expected = yaml.safe_load(text)
        except yaml.YAMLError:
            raise AssertionError(f"the subset read {text!r}, which PyYAML refuses") from None
        assert read == expected


@fuzz
@given(text=st.one_of(yaml_like, st.text(max_size=160), st.builds(json.dumps, yaml_values)))
def test_kubeconfig_text(text: str) -> None:
    document = typed_or_value(parse_kubeconfig_text, text, "fuzz")
    if document is not None:
        assert isinstance(document, dict)
