"""Image references, stream tag names, source kinds and name rules (openshift-semantics.md §1.2, §1.4, §1.9)."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    DockerImageReference,
    NormalizedImage,
    SourceKind,
    StreamTag,
    guess_source_kind,
    normalize_image,
    parse_docker_reference,
    parse_source,
    parse_stream_tag,
    source_kind_from_type,
    validate_digest,
    validate_namespace_name,
    validate_stream_name,
    validate_tag_name,
)

DIGEST = "sha256:3c87c572822935df60f0f5d3665bd376841a7fcfeb806b5f212de6a00e9a7b25"
R = DockerImageReference


# --- oc's parser: library-go's own table, plus the cases §1.2 names ---------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("foo", R(name="foo")),
        ("foo:tag", R(name="foo", tag="tag")),
        # a digest without a name is a name "sha256" with a tag: library-go agrees
        (DIGEST, R(name="sha256", tag=DIGEST.split(":")[1])),
        (f"foo@{DIGEST}", R(name="foo", digest=DIGEST)),
        ("bar/foo", R(namespace="bar", name="foo")),
        ("bar/foo:tag", R(namespace="bar", name="foo", tag="tag")),
        (f"bar/foo@{DIGEST}", R(namespace="bar", name="foo", digest=DIGEST)),
        ("bar/foo/baz", R(namespace="bar", name="foo/baz")),
        ("bar/library/baz", R(namespace="bar", name="library/baz")),
        ("bar/foo/baz/biz", R(namespace="bar", name="foo/baz/biz")),
        ("bar:5000/foo/baz", R(registry="bar:5000", namespace="foo", name="baz")),
        ("bar:5000/library/baz", R(registry="bar:5000", namespace="library", name="baz")),
        ("bar:5000/baz", R(registry="bar:5000", name="baz")),
        ("bar:5000/foo/baz:tag", R(registry="bar:5000", namespace="foo", name="baz", tag="tag")),
        (f"bar:5000/foo/baz@{DIGEST}", R(registry="bar:5000", namespace="foo", name="baz", digest=DIGEST)),
        ("myregistry.io/foo", R(registry="myregistry.io", name="foo")),
        ("localhost/bar", R(registry="localhost", name="bar")),
        ("docker.io/library/myapp", R(registry="docker.io", namespace="library", name="myapp")),
        ("docker.io/myapp", R(registry="docker.io", name="myapp")),
        ("docker.io/user/project/myapp", R(registry="docker.io", namespace="user", name="project/myapp")),
        ("index.docker.io/bar", R(registry="index.docker.io", name="bar")),
        # §1.2: no "/" at all: a bare registry only with "." or a leading "localhost"
        ("quay.io", R(registry="quay.io")),
        ("localhost:5000", R(registry="localhost:5000")),
        ("localhost:5000/org", R(registry="localhost:5000", name="org")),
        ("quay.io/org", R(registry="quay.io", name="org")),
        ("registry.example.com", R(registry="registry.example.com")),
        ("mysql:8.0", R(name="mysql", tag="8.0")),
        ("mysql", R(name="mysql")),
        ("openshift/ruby:2.0", R(namespace="openshift", name="ruby", tag="2.0")),
        ("quay.io/a/b:1", R(registry="quay.io", namespace="a", name="b", tag="1")),
        ("localhost:5000/a:1", R(registry="localhost:5000", name="a", tag="1")),
        ("docker.io/library/mysql:8.0", R(registry="docker.io", namespace="library", name="mysql", tag="8.0")),
        # no "." or ":" and not localhost: the first component is a namespace, even upper-case (oc does not check)
        ("Foo/bar:1", R(namespace="Foo", name="bar", tag="1")),
        ("a:1@" + DIGEST, R(name="a", tag="1", digest=DIGEST)),
    ],
)
def test_parse_docker_reference(spec: str, expected: DockerImageReference) -> None:
    assert parse_docker_reference(spec) == expected


def test_parse_boundary_lengths() -> None:
    ok = f"bar:5000/{'a' * 63}/{'b' * 182}:tag"  # registry/namespace/name == 255 characters
    assert parse_docker_reference(ok) == R(registry="bar:5000", namespace="a" * 63, name="b" * 182, tag="tag")
    assert parse_docker_reference(f"docker.io/{'b' * 231}:tag").name == "b" * 231
    with pytest.raises(InvalidInputError, match="not be more than 255 characters"):
        parse_docker_reference(f"bar:5000/{'a' * 63}/{'b' * 183}:tag")
    with pytest.raises(InvalidInputError, match="not be more than 255 characters"):
        parse_docker_reference(f"docker.io/{'b' * 246}:tag")


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("registry.io/foo/bar/:Tag", "must look like"),
        ("https://bar:5000/foo/baz", "no scheme"),
        (f"http://bar:5000/foo/baz@{DIGEST}", "must look like"),
        ("registry:3000/integration/imageStream:success", "must be lowercase"),
        ("registry:5000/integration/test-image-stream@sha256:00000000000000000000000000000001", "exactly 64"),
        ("abc@badid", "must look like"),
        ("index.docker.io/mysql@sha256:bad", "must look like"),
        (f"@{DIGEST}", "must look like"),
        (":tag", "must look like"),
        ("bar/foo/baz////biz", "no empty path components"),
        ("//foo/baz/biz", "must look like"),
        ("ftp://baz/baz/biz", "must look like"),
        ("", "empty"),
        ("a:" + "t" * 129, "must look like"),
        ("a@md5:" + "0" * 32, 'unsupported digest algorithm "md5"'),
        ("a@sha256:" + "A" * 64, "lowercase hexadecimal"),
    ],
)
def test_parse_docker_reference_rejects(spec: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(reason)) as caught:
        parse_docker_reference(spec)
    assert f'"{spec}"' in str(caught.value)


@pytest.mark.parametrize(
    ("reference", "exact", "name_string"),
    [
        (R(name="foo"), "foo", "foo"),
        (R(registry="quay.io"), "quay.io", ""),
        (R(registry="r:1", namespace="a", name="b", tag="t"), "r:1/a/b:t", "b:t"),
        (R(name="b", tag="t", digest=DIGEST), f"b:t@{DIGEST}", f"b@{DIGEST}"),
    ],
)
def test_exact_and_name_string(reference: DockerImageReference, exact: str, name_string: str) -> None:
    assert reference.exact() == exact
    assert reference.name_string() == name_string


# --- the normalised form ----------------------------------------------------------------------------------------------
N = NormalizedImage


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("nginx", N("docker.io", "library/nginx", "latest", None)),
        ("nginx:1.25", N("docker.io", "library/nginx", "1.25", None)),
        (f"nginx@{DIGEST}", N("docker.io", "library/nginx", None, DIGEST)),
        (f"nginx:latest@{DIGEST}", N("docker.io", "library/nginx", "latest", DIGEST)),
        ("docker.io/library/nginx", N("docker.io", "library/nginx", "latest", None)),
        ("docker.io/nginx", N("docker.io", "library/nginx", "latest", None)),
        ("index.docker.io/foo/bar:1", N("docker.io", "foo/bar", "1", None)),
        ("user/app", N("docker.io", "user/app", "latest", None)),
        ("quay.io/org/app:1.4", N("quay.io", "org/app", "1.4", None)),
        ("localhost/app", N("localhost", "app", "latest", None)),
        ("localhost:5000/a/b:T", N("localhost:5000", "a/b", "T", None)),
        ("[::1]:5000/a/b:1", N("[::1]:5000", "a/b", "1", None)),
        ("Registry/app", N("Registry", "app", "latest", None)),  # an upper-case first component is a domain
        ("mysql:8.0", N("docker.io", "library/mysql", "8.0", None)),
    ],
)
def test_normalize_image(image: str, expected: NormalizedImage) -> None:
    assert normalize_image(image) == expected


def test_normalized_name_and_string() -> None:
    image = normalize_image(f"quay.io/org/app:1@{DIGEST}")
    assert image.name == "quay.io/org/app"
    assert str(image) == f"quay.io/org/app:1@{DIGEST}"
    assert str(normalize_image("nginx")) == "docker.io/library/nginx:latest"


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("a" * 64, "image ID"),
        ("", "empty"),
        ("docker.io/Foo", "must be lowercase"),
        ("quay.io/Org/app", "must be lowercase"),
        ("quay.io//app", "must look like"),
        (f"docker.io/{'b' * 246}", "255"),
    ],
)
def test_normalize_image_rejects(image: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(reason)) as caught:
        normalize_image(image)
    assert f'"{image}"' in str(caught.value)


# --- name rules (§1.4 tag regex, §1.9) --------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["latest", "2.0", "v1.2.3-rc.1", "_private", "A", "a" * 128, "static-2.0", "1"])
def test_valid_tags(tag: str) -> None:
    validate_tag_name(tag)


@pytest.mark.parametrize("tag", ["", "-a", ".a", "a" * 129, "a:b", "a/b", "a@b", "é", "a b", "a+b"])
def test_invalid_tags(tag: str) -> None:
    with pytest.raises(InvalidInputError, match=r"tags must start with an alphanumeric character") as caught:
        validate_tag_name(tag)
    assert f'invalid tag "{tag}" format' in str(caught.value)


@pytest.mark.parametrize("name", ["ruby", "ruby-2.0", "a_b", "a.b.c", "my-app", "0", "a" * 200])
def test_valid_stream_names(name: str) -> None:
    validate_stream_name(name, namespace="project-a")


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        (".", 'may not be "." or ".."'),
        ("..", 'may not be "." or ".."'),
        ("a/b", 'may not contain "/" or "%"'),
        ("a%b", 'may not contain "/" or "%"'),
        ("Ruby", "must match"),
        ("a..b", "must match"),
        ("-a", "must match"),
        ("a-", "must match"),
        ("a__b", "must match"),
        ("", "must match"),
    ],
)
def test_invalid_stream_names(name: str, rule: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(rule)) as caught:
        validate_stream_name(name)
    assert f'"{name}"' in str(caught.value)


def test_stream_name_length_counts_the_namespace() -> None:
    namespace = "n" * 63
    validate_stream_name("s" * (255 - 64), namespace=namespace)
    with pytest.raises(InvalidInputError, match="'namespace/name' cannot be longer than 255 characters"):
        validate_stream_name("s" * (256 - 64), namespace=namespace)
    validate_stream_name("s" * 300)  # without a namespace the limit cannot be checked


@pytest.mark.parametrize("namespace", ["a", "project-a", "openshift", "a" * 63, "0abc"])
def test_valid_namespaces(namespace: str) -> None:
    validate_namespace_name(namespace)


@pytest.mark.parametrize("namespace", ["", "A", "a_b", "a.b", "-a", "a-", "a" * 64])
def test_invalid_namespaces(namespace: str) -> None:
    with pytest.raises(InvalidInputError, match="DNS-1123 label") as caught:
        validate_namespace_name(namespace)
    assert f'"{namespace}"' in str(caught.value)


@pytest.mark.parametrize("digest", [DIGEST, "sha384:" + "a" * 96, "sha512:" + "0" * 128])
def test_valid_digests(digest: str) -> None:
    validate_digest(digest)


@pytest.mark.parametrize(
    ("digest", "reason"),
    [
        ("sha256", "<algorithm>:<hex>"),
        (":abc", "<algorithm>:<hex>"),
        ("sha256:", "<algorithm>:<hex>"),
        ("SHA256:" + "a" * 64, "<algorithm>:<hex>"),
        ("md5:" + "a" * 32, "unsupported digest algorithm"),
        ("sha256:" + "a" * 63, "exactly 64"),
        ("sha256:" + "g" * 64, "exactly 64"),
        ("sha512:" + "a" * 64, "exactly 128"),
    ],
)
def test_invalid_digests(digest: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(reason)) as caught:
        validate_digest(digest)
    assert f'"{digest}"' in str(caught.value)


# --- destinations: [namespace/]stream:tag (§1.1, §1.4) ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ruby:static-2.0", StreamTag("project-a", "ruby", "static-2.0")),
        ("project-b/ruby:prod", StreamTag("project-b", "ruby", "prod")),
        ("is:", StreamTag("project-a", "is", "latest")),  # a trailing colon means latest
        ("ns/is:", StreamTag("ns", "is", "latest")),
    ],
)
def test_parse_stream_tag(value: str, expected: StreamTag) -> None:
    assert parse_stream_tag(value, default_namespace="project-a") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a/b/c:d", 'invalid image stream "a/b/c:d"'),
        ("/is:tag", 'invalid namespace "" for image stream "/is:tag"'),
        ("ns/:tag", 'invalid image stream name ""'),  # oc splits the namespace off "name:tag" first
        ("ns/", 'invalid name "" for image stream "ns/"'),
        ("is", '"is" must be of the form <stream_name>:<tag>'),  # latest is not implied
        ("ns/is", '"is" must be of the form <stream_name>:<tag>'),
        (f"is@{DIGEST}", "a digest (@...) names an image"),
        ("Ruby:1", 'invalid image stream name "Ruby"'),
        (":tag", 'invalid image stream name ""'),
        ("is:-bad", 'invalid tag "-bad" format'),
        ("is:a:b", 'invalid tag "a:b" format'),
        ("Bad_NS/is:tag", 'invalid namespace "Bad_NS"'),
    ],
)
def test_parse_stream_tag_rejects(value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        parse_stream_tag(value, default_namespace="project-a")


def test_tag_rule_is_skipped_when_deleting() -> None:
    assert parse_stream_tag("is:-odd", default_namespace="p", check_tag=False) == StreamTag("p", "is", "-odd")
    with pytest.raises(InvalidInputError, match="must be of the form"):
        parse_stream_tag("is", default_namespace="p", check_tag=False)


def test_stream_tag_string() -> None:
    assert str(StreamTag("p", "s", "t")) == "p/s:t"


# --- source kinds (§1.2) ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("auto", None),
        ("AUTO", None),
        ("ImageStreamTag", SourceKind.IMAGE_STREAM_TAG),
        ("istag", SourceKind.IMAGE_STREAM_TAG),
        ("imagestreamtags", SourceKind.IMAGE_STREAM_TAG),
        ("ImageStreamImage", SourceKind.IMAGE_STREAM_IMAGE),
        ("isimage", SourceKind.IMAGE_STREAM_IMAGE),
        ("imagestreamimage", SourceKind.IMAGE_STREAM_IMAGE),
        ("docker", SourceKind.DOCKER_IMAGE),
        ("Docker", SourceKind.DOCKER_IMAGE),
        ("DockerImage", SourceKind.DOCKER_IMAGE),
        ("dockerimage", SourceKind.DOCKER_IMAGE),
    ],
)
def test_source_kind_from_type(value: str, kind: SourceKind | None) -> None:
    assert source_kind_from_type(value) is kind


def test_source_kind_from_type_rejects() -> None:
    with pytest.raises(InvalidInputError, match=r'invalid source_type "image"; valid values are auto, docker'):
        source_kind_from_type("image")


@pytest.mark.parametrize(
    ("source", "source_type", "kind", "namespace", "from_name"),
    [
        # §1.2 consequences
        ("mysql:8.0", "auto", SourceKind.IMAGE_STREAM_TAG, "", "mysql:8.0"),
        ("mysql", "auto", SourceKind.DOCKER_IMAGE, "", "mysql"),
        ("openshift/ruby:2.0", "auto", SourceKind.IMAGE_STREAM_TAG, "openshift", "ruby:2.0"),
        ("quay.io/a/b:1", "auto", SourceKind.DOCKER_IMAGE, "", "quay.io/a/b:1"),
        ("localhost:5000/a:1", "auto", SourceKind.DOCKER_IMAGE, "", "localhost:5000/a:1"),
        ("docker.io/library/mysql:8.0", "auto", SourceKind.DOCKER_IMAGE, "", "docker.io/library/mysql:8.0"),
        ("mysql:8.0", "docker", SourceKind.DOCKER_IMAGE, "", "mysql:8.0"),
        (f"ruby@{DIGEST}", "auto", SourceKind.IMAGE_STREAM_IMAGE, "", f"ruby@{DIGEST}"),
        (f"project-b/ruby@{DIGEST}", "auto", SourceKind.IMAGE_STREAM_IMAGE, "project-b", f"ruby@{DIGEST}"),
        # a digest wins over a tag; oc drops the tag of an image stream image
        (f"ruby:2.0@{DIGEST}", "auto", SourceKind.IMAGE_STREAM_IMAGE, "", f"ruby@{DIGEST}"),
        (f"quay.io/a/b:1@{DIGEST}", "auto", SourceKind.DOCKER_IMAGE, "", f"quay.io/a/b:1@{DIGEST}"),
        ("ruby:2.0", "istag", SourceKind.IMAGE_STREAM_TAG, "", "ruby:2.0"),
        (f"ruby@{DIGEST}", "ImageStreamImage", SourceKind.IMAGE_STREAM_IMAGE, "", f"ruby@{DIGEST}"),
        # the legacy quirk: with an explicit image stream kind, namespace "library" means the current namespace
        ("library/ruby:2.0", "istag", SourceKind.IMAGE_STREAM_TAG, "project-a", "ruby:2.0"),
        (f"library/ruby@{DIGEST}", "isimage", SourceKind.IMAGE_STREAM_IMAGE, "project-a", f"ruby@{DIGEST}"),
        # ... but not when the kind is guessed
        ("library/ruby:2.0", "auto", SourceKind.IMAGE_STREAM_TAG, "library", "ruby:2.0"),
    ],
)
def test_parse_source(source: str, source_type: str, kind: SourceKind, namespace: str, from_name: str) -> None:
    parsed = parse_source(source, source_type=source_type, current_namespace="project-a")
    assert parsed.kind is kind
    assert parsed.namespace == namespace
    assert parsed.from_name == from_name


@pytest.mark.parametrize(
    ("source", "source_type", "message"),
    [
        ("quay.io/a/b:1", "istag", "a registry is only allowed when the source is a container image"),
        ("localhost/b@" + DIGEST, "isimage", "a registry is only allowed"),
        ("ruby", "istag", "source_type ImageStreamTag requires a source of the form [namespace/]<name>:<tag>"),
        (f"ruby@{DIGEST}", "istag", "source_type ImageStreamTag requires"),
        ("ruby:2.0", "isimage", "source_type ImageStreamImage requires a source of the form"),
        ("quay.io", "auto", "names only a registry"),
        ("localhost:5000", "docker", "names only a registry"),
        ("", "auto", "source is required"),
        ("Ruby:2.0", "auto", "must be lowercase"),
        ("ruby:2.0", "bogus", 'invalid source_type "bogus"'),
        ("a/b/c:1", "auto", 'invalid image stream name "b/c"'),
        ("a_b/ruby:1", "auto", 'invalid namespace "a_b"'),
        (f"{'n' * 63}/{'s' * 192}:1", "auto", "repository name must not be more than 255 characters"),
    ],
)
def test_parse_source_rejects(source: str, source_type: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        parse_source(source, source_type=source_type, current_namespace="project-a")


def test_source_stream_length_counts_the_current_namespace() -> None:
    parse_source(f"{'s' * 191}:1", current_namespace="n" * 63)
    with pytest.raises(InvalidInputError, match="'namespace/name' cannot be longer than 255 characters"):
        parse_source(f"{'s' * 192}:1", current_namespace="n" * 63)


def test_source_string_and_stream() -> None:
    source = parse_source("openshift/ruby:2.0", current_namespace="p")
    assert (str(source), source.stream) == ("openshift/ruby:2.0", "ruby")
    assert str(parse_source("ruby:2.0", current_namespace="p")) == "ruby:2.0"
    assert str(parse_source("quay.io/a/b", current_namespace="p")) == "quay.io/a/b"


@pytest.mark.parametrize(
    ("reference", "kind"),
    [
        (R(registry="r.io", name="a", tag="1"), SourceKind.DOCKER_IMAGE),
        (R(name="a", digest=DIGEST), SourceKind.IMAGE_STREAM_IMAGE),
        (R(name="a", tag="1"), SourceKind.IMAGE_STREAM_TAG),
        (R(name="a"), SourceKind.DOCKER_IMAGE),
    ],
)
def test_guess_source_kind_order(reference: DockerImageReference, kind: SourceKind) -> None:
    assert guess_source_kind(reference) is kind


# --- properties -----------------------------------------------------------------------------------------------------
_alnum = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
_separator = st.sampled_from([".", "_", "__", "-", "--"])


@st.composite
def _path_component(draw: st.DrawFn, *, dotless: bool = False) -> str:
    parts = [draw(_alnum)]
    for _index in range(draw(st.integers(0, 2))):
        separator = draw(_separator)
        if dotless and separator == ".":
            separator = "-"
        parts += [separator, draw(_alnum)]
    return "".join(parts)


@st.composite
def _registry(draw: st.DrawFn) -> str:
    host = draw(
        st.one_of(
            st.just("localhost"),
            st.builds(lambda a, b: f"{a}.{b}", _alnum, st.sampled_from(["io", "com", "example.org"])),
        )
    )
    port = draw(st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")))
    return host + port


_tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_digests = st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")


@st.composite
def _references(draw: st.DrawFn) -> DockerImageReference:
    registry = draw(st.one_of(st.just(""), _registry()))
    namespace = draw(st.one_of(st.just(""), _path_component(dotless=not registry)))
    if not registry:
        assume(namespace != "localhost")
    name_parts = [draw(_path_component(dotless=not registry and not namespace))]
    if namespace:
        name_parts += draw(st.lists(_path_component(), max_size=2))
    name = "/".join(name_parts)
    if not registry and not namespace:
        assume(not name.startswith("localhost"))
    return DockerImageReference(
        registry=registry,
        namespace=namespace,
        name=name,
        tag=draw(st.one_of(st.just(""), _tags)),
        digest=draw(st.one_of(st.just(""), _digests)),
    )


@given(_references())
def test_exact_round_trips_through_parse(reference: DockerImageReference) -> None:
    assert parse_docker_reference(reference.exact()) == reference


@given(_references())
def test_normalize_is_idempotent_and_agrees_with_oc(reference: DockerImageReference) -> None:
    normalized = normalize_image(reference.exact())
    assert normalize_image(str(normalized)) == normalized
    assert normalized.digest == (reference.digest or None)
    assert normalized.tag == (reference.tag or (None if reference.digest else "latest"))
    if reference.registry and reference.registry not in ("docker.io", "index.docker.io"):
        assert (normalized.registry, normalized.repository) == (reference.registry, reference.repository)


@given(st.text(max_size=80))
def test_parsers_only_raise_invalid_input(text: str) -> None:
    for parse in (parse_docker_reference, normalize_image):
        with contextlib.suppress(InvalidInputError):
            parse(text)
    with contextlib.suppress(InvalidInputError):
        parse_stream_tag(text, default_namespace="p")


@given(_path_component(dotless=True), _path_component(), _tags)
def test_stream_tag_round_trip(namespace: str, stream: str, tag: str) -> None:
    assume(len(namespace) <= 63 and "_" not in namespace and "." not in namespace)
    assume(re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", stream) is not None)
    namespace = namespace.replace("--", "-")
    assume(re.fullmatch(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", namespace) is not None)
    parsed = parse_stream_tag(f"{namespace}/{stream}:{tag}", default_namespace="other")
    assert parsed == StreamTag(namespace, stream, tag)
    assert parse_stream_tag(str(parsed), default_namespace="other") == parsed
    assert parse_stream_tag(f"{stream}:{tag}", default_namespace=namespace) == parsed
