# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: image_ref
short_description: Split a container image reference into its parts, as oc and as the kubelet read it
version_added: 0.1.0
author:
  - openshift_ops maintainers (@openshift-ops)
requirements:
  - Python 3.11 or newer on the controller.
description:
  - Parses a reference such as C(quay.io/org/app:1.4), C(ruby:2.0) or C(app@sha256:...).
  - The top-level keys are the parts as C(oc) reads them (library-go's parser) - nothing is added, so C(mysql:8.0)
    has no registry. RV(_value.source_kind) is how M(openshift_ops.images.image_tag) and C(oc tag) would take it
    as a source.
  - RV(_value.normalized) holds the form the kubelet and C(podman) use to pick credentials, with C(docker.io),
    C(library/) and C(latest) filled in.
options:
  _input:
    description:
      - The image reference.
    type: string
    required: true
seealso:
  - module: openshift_ops.images.image_tag
"""

EXAMPLES = r"""
- name: Which registry does the image come from?
  ansible.builtin.debug:
    msg: "{{ ('nginx:1.25' | openshift_ops.images.image_ref).normalized.registry }}"
  # docker.io

- name: Would image_tag read this source as an image stream tag?
  ansible.builtin.assert:
    that:
      - ('mysql:8.0' | openshift_ops.images.image_ref).source_kind == 'ImageStreamTag'
      - ('docker.io/library/mysql:8.0' | openshift_ops.images.image_ref).source_kind == 'DockerImage'
"""

RETURN = r"""
_value:
  description: The parts of the reference; absent parts are empty strings (V(null) in RV(_value.normalized)).
  type: dict
  contains:
    registry:
      description: The registry host (and port) as written, or empty.
      type: str
      returned: success
      sample: quay.io
    namespace:
      description: The first path component after the registry, or empty.
      type: str
      returned: success
      sample: org
    name:
      description: The rest of the path (it may hold C(/)).
      type: str
      returned: success
      sample: app
    repository:
      description: C(namespace/name), the path inside the registry.
      type: str
      returned: success
      sample: org/app
    tag:
      description: The tag, or empty (C(latest) is not implied).
      type: str
      returned: success
      sample: "1.4"
    digest:
      description: The digest, or empty.
      type: str
      returned: success
      sample: ""
    exact:
      description: The reference written back from its parts.
      type: str
      returned: success
      sample: quay.io/org/app:1.4
    source_kind:
      description: What C(oc tag) and M(openshift_ops.images.image_tag) guess the reference to be as a source.
      type: str
      returned: success
      choices: [DockerImage, ImageStreamTag, ImageStreamImage]
      sample: DockerImage
    normalized:
      description:
        - The reference as the kubelet and containers/image normalise it.
        - V(null) when the reference names only a registry (such as C(quay.io)).
      type: dict
      returned: success
      contains:
        registry:
          description: The registry, V(docker.io) when none is written.
          type: str
          returned: success
          sample: quay.io
        repository:
          description: The path, with C(library/) for an official Docker Hub image.
          type: str
          returned: success
          sample: org/app
        tag:
          description: The tag; V(latest) when there is neither tag nor digest, V(null) with only a digest.
          type: str
          returned: success
          sample: "1.4"
        digest:
          description: The digest or V(null).
          type: str
          returned: success
          sample:
        name:
          description: C(registry/repository).
          type: str
          returned: success
          sample: quay.io/org/app
        reference:
          description: The full normalised reference.
          type: str
          returned: success
          sample: quay.io/org/app:1.4
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    guess_source_kind,
    normalize_image,
    parse_docker_reference,
)


def image_ref(reference: Any) -> dict[str, Any]:
    """The ``image_ref`` filter: a reference string to a dict of its parts."""
    if not isinstance(reference, str):
        raise AnsibleFilterError(f"image_ref expects a string, got {type(reference).__name__}")
    try:
        parsed = parse_docker_reference(reference)
        normalized = normalize_image(reference) if parsed.name else None
    except InvalidInputError as error:
        raise AnsibleFilterError(f"image_ref: {error}") from None
    return {
        "registry": parsed.registry,
        "namespace": parsed.namespace,
        "name": parsed.name,
        "repository": parsed.repository,
        "tag": parsed.tag,
        "digest": parsed.digest,
        "exact": parsed.exact(),
        "source_kind": str(guess_source_kind(parsed)),
        "normalized": None
        if normalized is None
        else {
            "registry": normalized.registry,
            "repository": normalized.repository,
            "tag": normalized.tag,
            "digest": normalized.digest,
            "name": normalized.name,
            "reference": str(normalized),
        },
    }


class FilterModule:
    """The collection's image reference filter."""

    def filters(self) -> dict[str, Any]:
        return {"image_ref": image_ref}
