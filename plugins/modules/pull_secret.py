#!/usr/bin/python
# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pull_secret
short_description: Manage image pull secrets (kubernetes.io/dockerconfigjson) in an OpenShift project
version_added: 0.1.0
description:
  - Creates, updates or deletes a Secret of type C(kubernetes.io/dockerconfigjson) (or the legacy
    C(kubernetes.io/dockercfg)) holding registry credentials, and optionally links it to service accounts for
    pulling.
  - Credentials come from O(registries), a docker C(config.json) or podman C(auth.json) in O(auth_file) or
    O(auth_content); when several give the same registry key, the later source wins (O(auth_file), then
    O(auth_content), then O(registries)).
  - A document built from O(registries) holds exactly what C(kubectl create secret docker-registry) writes; entries
    from auth files keep every field.
  - Documents are compared as JSON, so a secret whose content is already right is not written, whatever its
    formatting. Labels and annotations of an existing secret are kept.
  - Passwords, C(auth) strings and tokens never appear in the output or the diff; only registry keys, user names,
    e-mail addresses and a fingerprint of each credential do.
author:
  - openshift_ops maintainers (@openshift-ops)
extends_documentation_fragment:
  - openshift_ops.images.connection
  - openshift_ops.images.execution
  - openshift_ops.images.registry_credentials
  - openshift_ops.images.credential_check
  - openshift_ops.images.registry_tls
attributes:
  check_mode:
    support: full
    description: Predicts exactly what a real run changes; nothing is written.
  diff_mode:
    support: full
    description: Shows registry keys, user names and credential fingerprints before and after; never secrets.
options:
  name:
    description:
      - Name of the Secret.
    type: str
    required: true
  namespace:
    description:
      - Project (namespace) of the Secret and of the service accounts in O(link_service_accounts).
      - Defaults to the namespace of the kubeconfig context, else V(default).
    type: str
  state:
    description:
      - V(present) creates or updates the secret; V(absent) deletes it and unlinks it from
        O(link_service_accounts).
      - V(absent) refuses to delete a secret that is not a pull secret unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - Secret type to write. The kubelet, CRI-O, image stream imports and builds read only
        V(kubernetes.io/dockerconfigjson) (key C(.dockerconfigjson)) and the legacy V(kubernetes.io/dockercfg)
        (key C(.dockercfg), the bare map of registry entries).
      - V(kubernetes.io/podmanconfigjson), which some OpenShift documentation suggests for podman's C(auth.json),
        is not read by anything; it is written as V(kubernetes.io/dockerconfigjson) instead, with a warning. The
        C(auth.json) format is valid C(.dockerconfigjson) content.
    type: str
    choices: [kubernetes.io/dockerconfigjson, kubernetes.io/dockercfg, kubernetes.io/podmanconfigjson]
    default: kubernetes.io/dockerconfigjson
  merge:
    description:
      - V(false) makes the secret hold exactly the given credentials.
      - V(true) adds or replaces the given entries in the existing secret and keeps every other entry and field.
        An entry whose key is an equivalent spelling of a given one (for example C(https://quay.io) and
        C(quay.io)) is replaced.
    type: bool
    default: false
  remove_registries:
    description:
      - Registry keys to remove from the secret (with O(merge=true), from the existing entries), matched like the
        kubelet and containers/image match them.
    type: list
    elements: str
    default: []
  link_service_accounts:
    description:
      - Service accounts in O(namespace) to link the secret to for pulling (their C(imagePullSecrets)), after it
        is written. Other entries, including OpenShift's managed C(<sa>-dockercfg-*) secret, are kept.
      - Only pods created afterwards get the secret; restart or roll out the others.
      - With O(state=absent), the secret is unlinked from them.
      - Use M(openshift_ops.images.secret_link) to wait for a service account or to link for mounting.
    type: list
    elements: str
    default: []
  force:
    description:
      - Delete and re-create an existing secret of another type (the type of a Secret cannot be changed) or an
        immutable one whose content must change. Pods starting in between may miss the secret.
      - Without it, such a secret makes the task fail and nothing is written.
    type: bool
    default: false
notes:
  - A path-scoped key such as C(quay.io/org) gives credentials for that path only. Write it without a scheme,
    because containers/image (CRI-O, podman, skopeo) treats C(https://quay.io/org) as registry-wide while the kubelet
    keeps the path. The module warns about keys that the kubelet and CRI-O would read differently.
  - Linking affects only pods created after the link, and only pods that do not list their own C(imagePullSecrets).
seealso:
  - module: openshift_ops.images.secret_link
  - module: openshift_ops.images.global_pull_secret
"""

EXAMPLES = r"""
- name: Pull secret for a Quay robot account, used by the default service account
  openshift_ops.images.pull_secret:
    name: quay-robot
    namespace: project-a
    registries:
      - server: quay.io/my-org
        username: my-org+robot
        password: "{{ vault_quay_robot_token }}"
    link_service_accounts: [default]

- name: From a podman auth.json on the managed host, checked against the registries first
  openshift_ops.images.pull_secret:
    name: private-registries
    namespace: project-a
    auth_file: /root/.config/containers/auth.json
    validate_credentials: true

- name: Add one registry to an existing secret and drop an old one, keeping every other entry
  openshift_ops.images.pull_secret:
    name: private-registries
    namespace: project-a
    merge: true
    registries:
      - server: registry.example.com:5000
        auth: "{{ vault_registry_auth }}"
    remove_registries: [old-registry.example.com]

- name: Delete the secret and unlink it from the builder service account
  openshift_ops.images.pull_secret:
    name: private-registries
    namespace: project-a
    state: absent
    link_service_accounts: [builder]
"""

RETURN = r"""
action:
  description: What happened to the secret.
  returned: always
  type: str
  choices: [created, updated, replaced, deleted, unchanged]
  sample: created
secret:
  description: The secret after the task, without any credential.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the secret.
      type: str
      returned: always
    namespace:
      description: Namespace of the secret.
      type: str
      returned: always
    type:
      description: Type of the secret; V(null) after O(state=absent).
      type: str
      returned: always
    registries:
      description:
        - Registry key to C(username), C(email) and C(fingerprint) (12 hex digits of a salted, deliberately slow
          hash of the credential; equal fingerprints mean equal credentials). Never passwords, C(auth) or tokens.
      type: dict
      returned: always
  sample:
    name: quay-robot
    namespace: project-a
    type: kubernetes.io/dockerconfigjson
    registries:
      quay.io/my-org:
        username: my-org+robot
        email: null
        fingerprint: 3f1c9a0b7d2e
registries_added:
  description: Registry keys the task added to the secret.
  returned: always
  type: list
  elements: str
  sample: [quay.io/my-org]
registries_updated:
  description: Registry keys whose entry the task changed.
  returned: always
  type: list
  elements: str
  sample: []
registries_removed:
  description: Registry keys the task removed (with O(state=absent), every key of the deleted secret).
  returned: always
  type: list
  elements: str
  sample: []
service_accounts:
  description: The service accounts of O(link_service_accounts) after the task, secret names only.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the service account.
      type: str
      returned: always
    namespace:
      description: Its namespace.
      type: str
      returned: always
    image_pull_secrets:
      description: Names in its C(imagePullSecrets).
      type: list
      elements: str
      returned: always
    secrets:
      description: Names in its C(secrets).
      type: list
      elements: str
      returned: always
  sample:
    - name: default
      namespace: project-a
      image_pull_secrets: [default-dockercfg-x7k2p, quay-robot]
      secrets: []
credential_checks:
  description:
    - Result of O(validate_credentials), one item per registry key checked, that is per entry this run writes (adds
      or changes).
    - Empty when the secret already holds every given entry as it would be written; no registry was asked then.
  returned: when O(validate_credentials=true) and O(state=present) (a deletion asks no registry)
  type: list
  elements: dict
  contains:
    registry:
      description: The registry key.
      type: str
      returned: always
    ok:
      description: Whether the registry accepted the credential (or asks for none).
      type: bool
      returned: always
    outcome:
      description:
        - V(accepted), V(anonymous) (the registry asks for no credentials), or V(unchecked) (the entry holds nothing
          to check, or its key is a wildcard; a warning says so). V(rejected), V(unreachable) and V(error) fail the
          task instead.
      type: str
      returned: always
    detail:
      description: What the registry answered, without the credential.
      type: str
      returned: always
  sample:
    - registry: quay.io/my-org
      ok: true
      outcome: accepted
      detail: bearer token issued by https://quay.io/v2/auth
"""

from ansible.module_utils.basic import AnsibleModule

# our module_utils come from the payload's zip: compiled once per host, not on every run (docs/execution.md)
from ansible_collections.openshift_ops.images.plugins.module_utils._bytecode_cache import install_bytecode_cache

install_bytecode_cache()

from ansible_collections.openshift_ops.images.plugins.module_utils._operation import run_module
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.interface import PULL_SECRET


def main() -> None:
    run_module(AnsibleModule(**PULL_SECRET.spec_arguments(), supports_check_mode=True), PULL_SECRET)


if __name__ == "__main__":
    main()
