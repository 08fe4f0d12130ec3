# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``imagePullPolicy`` the API server defaults for a container image (``SetDefaults_Container``, §9)."""

from __future__ import annotations

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import normalize_image

ALWAYS = "Always"
IF_NOT_PRESENT = "IfNotPresent"


def defaulted_tag(image: str) -> str:
    """The tag the defaulter sees (``parsers.ParseImageName``): the image's tag, ``latest`` when it has neither tag
    nor digest, ``""`` for a digest-only image or one that cannot be parsed."""
    try:
        normalized = normalize_image(image)
    except InvalidInputError:
        return ""
    return normalized.tag or ""


def default_pull_policy(image: str) -> str:
    """``Always`` when the defaulter sees the tag ``latest`` (also for ``name:latest@digest``), else ``IfNotPresent``
    (other tags, digest-only images, and image strings that cannot be parsed)."""
    return ALWAYS if defaulted_tag(image) == "latest" else IF_NOT_PRESENT
