# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the registry-credential options; the argument spec is
``_registry/credential_options.registry_credentials_argument_spec``."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  registries:
    description:
      - Registry credentials, each written as C(kubectl create secret docker-registry) writes it (fields
        C(username), C(password), C(email) when set, and C(auth)), or as a podman-style entry when O(registries[].auth)
        is given.
      - Applied after O(auth_file) and O(auth_content); an entry here replaces one there with the same (or an
        equivalent) key. Two items naming the same registry are refused.
    type: list
    elements: dict
    suboptions:
      server:
        description:
          - The registry key, written as given. A host with an optional port (V(quay.io), V(registry.example.com:5000))
            applies to the whole registry; a path (V(quay.io/myorg)) scopes the credential to repositories under it.
          - Write path-scoped keys without a scheme. The kubelet matches the path as a plain string prefix
            (V(quay.io/myorg) also matches C(quay.io/myorg-other/...)), containers/image (CRI-O, podman) by whole
            path components, and containers/image treats V(https://quay.io/myorg) as registry-wide.
          - For Docker Hub use V(docker.io) (or V(docker.io/namespace)); V(https://index.docker.io/v1/), docker's
            spelling, is equivalent for the whole registry.
          - Tags, digests, upper-case paths and schemes other than C(https://) or C(http://) are refused.
        type: str
        required: true
      username:
        description:
          - User name. Must not contain C(:), because readers split the credential at the first C(:).
          - Requires O(registries[].password); mutually exclusive with O(registries[].auth).
        type: str
      password:
        description:
          - Password or token for O(registries[].username). Never shown in output or diff.
        type: str
      auth:
        description:
          - A ready C(auth) value, standard base64 (with padding) of C(user:password), as found in podman's
            C(auth.json). Checked before use, because a malformed C(auth) makes the kubelet fail every pull that
            uses the secret.
          - The entry then holds only C(auth) (and C(email) when given).
        type: str
      email:
        description:
          - E-mail address stored in the entry. Left out when empty. Registries ignore it.
        type: str
  auth_file:
    description:
      - Path (on the managed host) to a docker C(config.json) or podman C(auth.json) whose C(auths) entries are
        used as they are, with every field kept.
      - Every entry must hold credentials the kubelet can use (C(auth), or C(username) and C(password)); entries
        that only point at a docker credential helper (C(credsStore), C(credHelpers)) are refused.
    type: path
  auth_content:
    description:
      - The content of a docker C(config.json) or podman C(auth.json), as JSON text or as a dictionary, used like
        O(auth_file) and applied after it.
    type: raw
"""
