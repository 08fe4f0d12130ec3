# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: dockerconfigjson
short_description: Build a docker config.json / .dockerconfigjson document from registry credentials
version_added: 0.1.0
author:
  - openshift_ops maintainers (@openshift-ops)
requirements:
  - Python 3.11 or newer on the controller.
description:
  - Builds the document a C(kubernetes.io/dockerconfigjson) pull secret holds, exactly as
    C(kubectl create secret docker-registry) builds it; each entry holds C(username), C(password), C(email) (when
    set) and C(auth), in that order.
  - An item with C(auth) instead of C(username) and C(password) gives a podman-style entry holding only C(auth)
    (and C(email)); the C(auth) value is checked to be base64 of C(user:password).
  - Registry keys are written as given. Tags, digests and upper-case paths are refused, and so are two items that
    name the same registry (V(docker.io) and V(https://index.docker.io/v1/) are the same registry).
  - The result holds the passwords. Use it only in tasks with C(no_log=true).
options:
  _input:
    description:
      - The credentials, as a list of dictionaries with keys C(server), C(username), C(password) and optionally
        C(email) (or C(server), C(auth) and optionally C(email)).
      - Also accepted, a single such dictionary, or a dictionary mapping each server to a dictionary with
        C(username), C(password) and optionally C(email) (or C(auth)).
    type: raw
    required: true
  as_json:
    description:
      - Return the document as compact JSON text (kubectl's bytes) instead of a dictionary.
      - Pipe the text to P(ansible.builtin.b64encode#filter) for a Secret's C(data), so that nothing re-formats it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A pull secret holding exactly what kubectl would write
  no_log: true
  kubernetes.core.k8s:
    definition:
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/dockerconfigjson
      metadata:
        name: quay-pull
        namespace: my-project
      data:
        .dockerconfigjson: >-
          {{ [{'server': 'quay.io', 'username': quay_user, 'password': quay_password}]
             | openshift_ops.images.dockerconfigjson(as_json=true) | b64encode }}

- name: The document as a dictionary, from a server-keyed mapping
  no_log: true
  ansible.builtin.set_fact:
    registry_auth: >-
      {{ {'registry.example.com:5000': {'username': 'robot', 'password': robot_token, 'email': 'ops@example.com'}}
         | openshift_ops.images.dockerconfigjson }}
  # {"auths": {"registry.example.com:5000": {"username": "robot", "password": "...", "email": "ops@example.com",
  #                                          "auth": "cm9ib3Q6Li4u"}}}
"""

RETURN = r"""
_value:
  description:
    - 'The document C({"auths": {<server>: <entry>, ...}}) as a dictionary, or as compact JSON text when
      O(as_json=true).'
  type: raw
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import dump_document
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    registry_entries_from_list,
)


def _credential_items(credentials: Any) -> list[Any]:
    if isinstance(credentials, Mapping):
        if "server" in credentials and not isinstance(credentials["server"], Mapping):
            return [credentials]
        items = []
        for server, fields in credentials.items():
            if not isinstance(fields, Mapping):
                raise InvalidInputError(
                    f"the credentials for {server!r} must be a dictionary with username and password (or auth)"
                )
            items.append({**fields, "server": server})
        return items
    if isinstance(credentials, list | tuple):
        return list(credentials)
    raise InvalidInputError(
        "dockerconfigjson expects a list of {server, username, password[, email]} dictionaries, one such dictionary, "
        f"or a dictionary keyed by server; got {type(credentials).__name__}"
    )


def dockerconfigjson(credentials: Any, as_json: bool = False) -> dict[str, Any] | str:
    """The ``.dockerconfigjson`` document for ``credentials`` (a dict, or compact JSON text with ``as_json``)."""
    try:
        document = {"auths": registry_entries_from_list(_credential_items(credentials), label="credentials")}
        return dump_document(document) if as_json else document
    except InvalidInputError as error:
        # Our messages never hold a password or an auth value.
        raise AnsibleFilterError(f"dockerconfigjson: {error}") from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"dockerconfigjson": dockerconfigjson}
