# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references as ``oc`` reads them (library-go's non-normalising parser) and in their normalised form, the
``[namespace/]stream:tag`` names of image stream tags, the source-kind guess of ``oc tag``, and OpenShift's name rules.

Pure functions only; every rejection is an ``InvalidInputError`` that names the bad value and the rule it broke.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import is_dns1123_label

# --- grammar of docker references (distribution/reference, as forked by library-go) -------------------------------
# Written with mandatory separators so no sub-pattern can match the empty string: that keeps the regex linear on
# hostile input, and accepts exactly the same strings as upstream's ``[-]*`` form.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
# Newer distribution (what the kubelet and containers/image use) also accepts a bracketed IPv6 address.
_DOMAIN_WITH_IPV6 = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"


@functools.cache
def _reference_regex(domain: str) -> re.Pattern[str]:
    """The reference grammar with ``domain``; compiled on first use, as a run seldom needs both forms (0.5 ms each)."""
    name = rf"(?:{domain}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    return re.compile(rf"(?P<name>{name})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?")


_NAME_TOTAL_LENGTH_MAX = 255
_HEX_IDENTIFIER = re.compile(r"[a-f0-9]{64}")

_TAG_NAME = re.compile(_TAG)
_STREAM_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_DIGEST_ALGORITHM = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*")
_LOWER_HEX = re.compile(r"[a-f0-9]+")
# The digest algorithms distribution accepts, with the length of their hex encoding.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

DOCKER_HUB = "docker.io"
_LEGACY_DOCKER_HUB = "index.docker.io"
DEFAULT_TAG = "latest"
_LIBRARY_NAMESPACE = "library"
TAG_RULE = (
    "tags must start with an alphanumeric character or '_' followed by alphanumeric, '_', '.' or '-' characters, "
    "and have a maximum of 128 characters"
)
STREAM_NAME_RULE = 'must match "[a-z0-9]+(?:[._-][a-z0-9]+)*" (lowercase letters, digits and single ".", "_", "-")'


# --- oc's view of a reference ---------------------------------------------------------------------------------------
class DockerImageReference(NamedTuple):
    """A reference split the way library-go's ``reference.Parse`` splits it: nothing is defaulted.

    ``namespace`` is the first path component after the registry and ``name`` the rest (which may hold ``/``).
    """

    registry: str = ""
    namespace: str = ""
    name: str = ""
    tag: str = ""
    digest: str = ""

    @property
    def repository(self) -> str:
        """The path inside the registry: ``namespace/name`` or ``name``."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def name_string(self) -> str:
        """``name@digest``, ``name:tag`` or ``name``: the digest wins over the tag, as in library-go."""
        if not self.name:
            return ""
        if self.digest:
            return f"{self.name}@{self.digest}"
        if self.tag:
            return f"{self.name}:{self.tag}"
        return self.name

    def exact(self) -> str:
        """The reference with exactly the parts that are set (library-go's ``Exact``), e.g. for ``from.name``."""
        if not self.name:
            return self.registry
        prefix = "".join(f"{part}/" for part in (self.registry, self.namespace) if part)
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{prefix}{self.name}{tag}{digest}"


def _match_reference(spec: str, pattern: re.Pattern[str], *, shown: str | None = None) -> re.Match[str]:
    """Match ``spec`` against the reference grammar; raise with distribution's reason when it does not.

    ``shown`` is the string the user wrote, named in messages when ``spec`` is a normalised form of it.
    """
    shown = spec if shown is None else shown
    if not spec:
        raise InvalidInputError('invalid image reference "": the reference is empty')
    match = pattern.fullmatch(spec)
    if match is None:
        if pattern.fullmatch(spec.lower()) is not None:
            raise InvalidInputError(
                f'invalid image reference "{shown}": repository name must be lowercase; write the repository path '
                "in lower case (image repositories have no capitals)"
            )
        raise InvalidInputError(
            f'invalid image reference "{shown}": it must look like [registry/][namespace/]name[:tag][@digest] '
            "(no scheme such as https://, no empty path components)"
        )
    if len(match["name"]) > _NAME_TOTAL_LENGTH_MAX:
        raise InvalidInputError(
            f'invalid image reference "{shown}": repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} '
            "characters"
        )
    problem = _digest_problem(match["digest"]) if match["digest"] else None
    if problem:
        raise InvalidInputError(f'invalid image reference "{shown}": {problem}')
    return match


def _first_component_is_registry(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


def parse_docker_reference(spec: str) -> DockerImageReference:
    """Parse ``spec`` the way ``oc`` does (library-go ``reference.Parse``): no ``docker.io``, ``library/`` or
    ``latest`` is added.

    The first path component is the registry only if it holds ``.`` or ``:`` or is ``localhost``. A string with no
    ``/`` at all is a bare registry (and its "tag" is a port) when it holds ``.`` or starts with ``localhost``.
    """
    match = _match_reference(spec, _reference_regex(_DOMAIN))
    name, tag, digest = match["name"], match["tag"] or "", match["digest"] or ""
    slash = name.find("/")
    if slash == -1 and ("." in name or name.startswith("localhost")):
        # library-go keeps the whole string as the registry; we keep the digest apart so no part is said twice.
        registry = f"{name}:{tag}" if tag else name
        return DockerImageReference(registry=registry, digest=digest)
    registry = ""
    if slash != -1 and _first_component_is_registry(name[:slash]):
        registry, name = name[:slash], name[slash + 1 :]
    namespace = ""
    if "/" in name:
        namespace, name = name.split("/", 1)
    return DockerImageReference(registry=registry, namespace=namespace, name=name, tag=tag, digest=digest)


# --- the normalised view (what the kubelet and containers/image use to pick credentials) ---------------------------
class NormalizedImage(NamedTuple):
    """A reference normalised as docker/containers do: ``nginx`` is ``docker.io/library/nginx:latest``.

    ``tag`` is ``latest`` only when the reference has neither a tag nor a digest; ``digest`` is ``None`` when absent.
    """

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """``registry/repository``, the key credential lookups match against."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.name}{tag}{digest}"


def normalize_image(image: str) -> NormalizedImage:
    """Parse ``image`` like distribution's ``ParseNormalizedNamed`` followed by ``TagNameOnly``."""
    if _HEX_IDENTIFIER.fullmatch(image):
        raise InvalidInputError(
            f'invalid image reference "{image}": a 64-character hexadecimal string is an image ID, not a repository '
            "name"
        )
    first, slash, rest = image.partition("/")
    # An upper-case first component cannot be a repository path, so distribution takes it for a domain.
    if slash and (_first_component_is_registry(first) or first.lower() != first):
        registry, remainder = first, rest
    else:
        registry, remainder = DOCKER_HUB, image
    if registry == _LEGACY_DOCKER_HUB:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in remainder:
        remainder = f"{_LIBRARY_NAMESPACE}/{remainder}"
    if not image:
        raise InvalidInputError('invalid image reference "": the reference is empty')
    repository_path = remainder.split(":", 1)[0]
    if repository_path.lower() != repository_path:
        raise InvalidInputError(
            f'invalid image reference "{image}": repository name "{repository_path}" must be lowercase'
        )
    match = _match_reference(f"{registry}/{remainder}", _reference_regex(_DOMAIN_WITH_IPV6), shown=image)
    digest = match["digest"] or None
    return NormalizedImage(
        registry=registry,
        repository=match["name"][len(registry) + 1 :],
        tag=match["tag"] or (None if digest else DEFAULT_TAG),
        digest=digest,
    )


# --- name rules (§1.9) ------------------------------------------------------------------------------------------------
def _digest_problem(digest: str) -> str | None:
    """Why ``digest`` is not ``algorithm:hex`` with a known algorithm and its hex length, or ``None`` if it is."""
    algorithm, colon, encoded = digest.partition(":")
    if not colon or not algorithm or not encoded or not _DIGEST_ALGORITHM.fullmatch(algorithm):
        return "a digest has the form <algorithm>:<hex>, e.g. sha256:<64 hex digits>"
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        return f'unsupported digest algorithm "{algorithm}" (known: {", ".join(_DIGEST_HEX_LENGTHS)})'
    if len(encoded) != expected or not _LOWER_HEX.fullmatch(encoded):
        return (
            f"a {algorithm} digest has exactly {expected} lowercase hexadecimal digits after the colon, "
            f"got {len(encoded)} characters"
        )
    return None


def validate_digest(digest: str) -> None:
    """``algorithm:hex`` with a known algorithm and the hex length it implies (sha256: 64 lowercase hex digits)."""
    problem = _digest_problem(digest)
    if problem:
        raise InvalidInputError(f'invalid digest "{digest}": {problem}')


def validate_tag_name(tag: str) -> None:
    """oc's client-side tag rule ``^[\\w][\\w.-]{0,127}$`` (``\\w`` is ASCII letters, digits and ``_``)."""
    if not _TAG_NAME.fullmatch(tag):
        raise InvalidInputError(f'invalid tag "{tag}" format, {TAG_RULE}')


def validate_namespace_name(namespace: str) -> None:
    """A namespace is a DNS-1123 label: lowercase alphanumerics and ``-``, alphanumeric at both ends, at most 63."""
    if not is_dns1123_label(namespace):
        raise InvalidInputError(
            f'invalid namespace "{namespace}": a namespace must be a DNS-1123 label (lowercase letters, digits and '
            "'-', starting and ending with a letter or digit, at most 63 characters)"
        )


def validate_stream_name(name: str, *, namespace: str = "") -> None:
    """The API server's ``ValidateImageStreamName``: a path segment, the lowercase pattern, and
    ``len(namespace/name) <= 255``."""
    if name in (".", "..") or "/" in name or "%" in name:
        raise InvalidInputError(
            f'invalid image stream name "{name}": it may not be "." or ".." and may not contain "/" or "%"'
        )
    if not _STREAM_NAME.fullmatch(name):
        raise InvalidInputError(f'invalid image stream name "{name}": {STREAM_NAME_RULE}')
    if namespace and len(f"{namespace}/{name}") > _NAME_TOTAL_LENGTH_MAX:
        raise InvalidInputError(
            f'invalid image stream name "{name}" in namespace "{namespace}": '
            f"'namespace/name' cannot be longer than {_NAME_TOTAL_LENGTH_MAX} characters"
        )


# --- [namespace/]stream:tag -----------------------------------------------------------------------------------------
class StreamTag(NamedTuple):
    """One image stream tag, with its namespace resolved."""

    namespace: str
    stream: str
    tag: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.stream}:{self.tag}"


def _split_stream_name(value: str, default_namespace: str) -> tuple[str, str]:
    """oc's ``parseStreamName``: at most one ``/``, neither side empty."""
    if "/" not in value:
        return default_namespace, value
    parts = value.split("/")
    if len(parts) != 2:
        raise InvalidInputError(f'invalid image stream "{value}": use [namespace/]stream:tag with at most one "/"')
    namespace, name = parts
    if not namespace:
        raise InvalidInputError(f'invalid namespace "" for image stream "{value}"')
    if not name:
        raise InvalidInputError(f'invalid name "" for image stream "{value}"')
    return namespace, name


def parse_stream_tag(value: str, *, default_namespace: str, check_tag: bool = True) -> StreamTag:
    """Parse a destination ``[namespace/]stream:tag`` as ``oc tag`` does.

    ``stream`` alone is refused (``latest`` is not implied); ``stream:`` means ``stream:latest``. The tag rule is
    skipped with ``check_tag=False`` (deleting), so badly named existing tags can still be removed.
    """
    namespace, name_and_tag = _split_stream_name(value, default_namespace)
    if "@" in name_and_tag:
        raise InvalidInputError(
            f'invalid image stream tag "{value}": a destination is [namespace/]stream:tag; a digest (@...) names an '
            "image, not a tag"
        )
    stream, colon, tag = name_and_tag.partition(":")
    if not colon:
        raise InvalidInputError(f'"{name_and_tag}" must be of the form <stream_name>:<tag>')
    tag = tag or DEFAULT_TAG
    validate_namespace_name(namespace)
    validate_stream_name(stream, namespace=namespace)
    if check_tag:
        validate_tag_name(tag)
    return StreamTag(namespace=namespace, stream=stream, tag=tag)


# --- the source of a tag and its kind (§1.2) --------------------------------------------------------------------------
class SourceKind(StrEnum):
    """``from.kind`` of a TagReference."""

    DOCKER_IMAGE = "DockerImage"
    IMAGE_STREAM_TAG = "ImageStreamTag"
    IMAGE_STREAM_IMAGE = "ImageStreamImage"


# What oc's REST mapper and its own switch turn a --source value into (compared case-insensitively).
_SOURCE_TYPE_ALIASES = {
    "imagestreamtag": SourceKind.IMAGE_STREAM_TAG,
    "imagestreamtags": SourceKind.IMAGE_STREAM_TAG,
    "istag": SourceKind.IMAGE_STREAM_TAG,
    "imagestreamimage": SourceKind.IMAGE_STREAM_IMAGE,
    "imagestreamimages": SourceKind.IMAGE_STREAM_IMAGE,
    "isimage": SourceKind.IMAGE_STREAM_IMAGE,
    "docker": SourceKind.DOCKER_IMAGE,
    "dockerimage": SourceKind.DOCKER_IMAGE,
}
_VALID_SOURCE_TYPES = "docker, dockerimage, imagestreamimage, imagestreamtag, isimage, istag"


def source_kind_from_type(source_type: str) -> SourceKind | None:
    """The kind a ``source_type`` value asks for; ``None`` for ``auto`` (guess from the reference)."""
    if source_type.lower() == "auto":
        return None
    kind = _SOURCE_TYPE_ALIASES.get(source_type.lower())
    if kind is None:
        raise InvalidInputError(f'invalid source_type "{source_type}"; valid values are auto, {_VALID_SOURCE_TYPES}')
    return kind


class TagSource(NamedTuple):
    """The source of a tag as written, with its kind decided.

    ``namespace`` is the source's namespace as written ("" when none was written; always "" for DockerImage).
    """

    kind: SourceKind
    reference: DockerImageReference

    @property
    def namespace(self) -> str:
        return "" if self.kind is SourceKind.DOCKER_IMAGE else self.reference.namespace

    @property
    def stream(self) -> str:
        """The image stream name of an image stream source."""
        return self.reference.name

    @property
    def from_name(self) -> str:
        """``from.name`` as oc writes it: the exact reference for DockerImage, ``stream:tag`` or ``stream@digest``."""
        if self.kind is SourceKind.DOCKER_IMAGE:
            return self.reference.exact()
        return self.reference.name_string()

    def __str__(self) -> str:
        if self.kind is SourceKind.DOCKER_IMAGE:
            return self.reference.exact()
        prefix = f"{self.reference.namespace}/" if self.reference.namespace else ""
        return f"{prefix}{self.reference.name_string()}"


def guess_source_kind(reference: DockerImageReference) -> SourceKind:
    """oc's guess without ``--source``: registry → DockerImage, digest → ImageStreamImage, tag → ImageStreamTag,
    otherwise DockerImage."""
    if reference.registry:
        return SourceKind.DOCKER_IMAGE
    if reference.digest:
        return SourceKind.IMAGE_STREAM_IMAGE
    if reference.tag:
        return SourceKind.IMAGE_STREAM_TAG
    return SourceKind.DOCKER_IMAGE


def parse_source(source: str, *, source_type: str = "auto", current_namespace: str) -> TagSource:
    """Parse a tag source and decide its kind exactly as ``oc tag`` does (§1.2), then check the names it holds.

    With an explicit image stream kind, a registry part is refused and the namespace ``library`` is replaced by
    ``current_namespace`` (an oc legacy quirk kept for compatibility).
    """
    if not source:
        raise InvalidInputError("source is required: [namespace/]stream:tag, [namespace/]stream@digest or an image")
    explicit = source_kind_from_type(source_type)
    try:
        reference = parse_docker_reference(source)
    except InvalidInputError as error:
        raise InvalidInputError(f"invalid source: {error}") from None
    if explicit in (SourceKind.IMAGE_STREAM_TAG, SourceKind.IMAGE_STREAM_IMAGE):
        if reference.registry:
            raise InvalidInputError(
                f'source "{source}" names a registry ("{reference.registry}"); a registry is only allowed when the '
                "source is a container image (source_type: DockerImage)"
            )
        if reference.namespace == _LIBRARY_NAMESPACE:
            reference = reference._replace(namespace=current_namespace)
        if explicit is SourceKind.IMAGE_STREAM_TAG and (not reference.tag or reference.digest):
            raise InvalidInputError(
                f'source_type ImageStreamTag requires a source of the form [namespace/]<name>:<tag>, got "{source}"'
            )
        if explicit is SourceKind.IMAGE_STREAM_IMAGE and not reference.digest:
            raise InvalidInputError(
                "source_type ImageStreamImage requires a source of the form [namespace/]<name>@<digest>, "
                f'got "{source}"'
            )
    kind = explicit or guess_source_kind(reference)
    if kind is SourceKind.DOCKER_IMAGE:
        if not reference.name:
            raise InvalidInputError(
                f'source "{source}" names only a registry; give a repository as well, e.g. {reference.registry}/'
                "namespace/name:tag"
            )
        return TagSource(kind=kind, reference=reference)
    if kind is SourceKind.IMAGE_STREAM_IMAGE:
        reference = reference._replace(tag="")  # oc drops the tag of an image stream image
    if reference.namespace:
        validate_namespace_name(reference.namespace)
    validate_stream_name(reference.name, namespace=reference.namespace or current_namespace)
    return TagSource(kind=kind, reference=reference)
