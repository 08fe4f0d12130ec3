# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: pull_policy
short_description: The imagePullPolicy Kubernetes defaults for a container image
version_added: 0.1.0
author:
  - openshift_ops maintainers (@openshift-ops)
requirements:
  - Python 3.11 or newer on the controller.
description:
  - Returns the C(imagePullPolicy) the API server sets when a container leaves it empty, following
    C(SetDefaults_Container).
  - V(Always) when the image's tag is C(latest), written or implied (an image with neither tag nor digest); this
    includes C(name:latest@sha256:...), where the digest does not change the rule.
  - V(IfNotPresent) for any other tag, for a digest-only image, and for an image string Kubernetes cannot parse.
  - The default is fixed when the field is first set; changing the image later does not change the policy of an
    existing Deployment template.
options:
  _input:
    description: A container image reference, for example C(nginx), C(quay.io/ns/app:1.2) or C(app@sha256:...).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Show the policy a pod would get
  ansible.builtin.debug:
    msg: "{{ 'registry.example.com/team/app:latest' | openshift_ops.images.pull_policy }}"  # Always

- name: Set the policy explicitly, as the API server would default it
  ansible.builtin.set_fact:
    container:
      name: app
      image: "{{ app_image }}"
      imagePullPolicy: "{{ app_image | openshift_ops.images.pull_policy }}"
"""

RETURN = r"""
_value:
  description: V(Always) or V(IfNotPresent).
  type: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_ops.images.plugins.module_utils._images.pull_policy import default_pull_policy


def pull_policy(image: Any) -> str:
    """``Always`` or ``IfNotPresent``: what the API server defaults for ``image``."""
    if not isinstance(image, str):
        raise AnsibleFilterError(f"pull_policy expects an image reference string, got {type(image).__name__}")
    return default_pull_policy(image)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"pull_policy": pull_policy}
