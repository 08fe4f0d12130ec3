#!/usr/bin/python
# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: secret_link
short_description: Link secrets to an OpenShift service account for pulling or mounting, or unlink them
version_added: 0.1.0
description:
  - The declarative form of C(oc secrets link) and C(oc secrets unlink).
  - Adds secret names to a service account's C(imagePullSecrets) (O(purpose=pull)) and/or C(secrets)
    (O(purpose=mount)), or removes them. Every other entry is kept, including OpenShift's managed
    C(<sa>-dockercfg-*) secret and duplicates already there.
  - Linking a secret that is already linked and unlinking one that is not are no change (C(oc) fails on the second
    unlink). The service account is written with its C(resourceVersion) and re-read on a conflict, so changes made
    at the same time by OpenShift's controllers are not lost.
  - Only pods created after the link get the secret, and only pods that do not list their own
    C(imagePullSecrets). Running pods keep what they had; roll out deployments to use the new secret.
author:
  - openshift_ops maintainers (@openshift-ops)
extends_documentation_fragment:
  - openshift_ops.images.connection
  - openshift_ops.images.execution
attributes:
  check_mode:
    support: full
    description: Predicts exactly what a real run changes; nothing is written and nothing is waited for.
  diff_mode:
    support: full
    description: Shows the service account's two lists of secret names before and after.
options:
  service_account:
    description:
      - Name of the service account.
    type: str
    required: true
  namespace:
    description:
      - Project (namespace) of the service account and the secrets.
      - Defaults to the namespace of the kubeconfig context, else V(default).
    type: str
  secrets:
    description:
      - Names of the secrets, written as C(NAME), C(secret/NAME) or C(secrets/NAME). They are added in this order
        after the existing entries.
    type: list
    elements: str
    required: true
  purpose:
    description:
      - V(pull) edits C(imagePullSecrets), which the kubelet uses to pull the pod's images.
      - V(mount) edits C(secrets), the legacy list of secrets pods may mount. A pull secret there does not help
        pulling.
      - Without it, O(state=present) links for V(pull) (unlike C(oc secrets link), whose default is mount), and
        O(state=absent) removes from both lists, as C(oc secrets unlink) does.
    type: list
    elements: str
    choices: [pull, mount]
  state:
    description:
      - V(present) links the secrets; V(absent) removes every entry with their names from the lists of
        O(purpose) (both lists when O(purpose) is not given).
    type: str
    choices: [present, absent]
    default: present
  allow_missing:
    description:
      - Link secrets that do not exist (yet) instead of failing. A pod whose pull secret is missing pulls without
        it; the kubelet gives a C(FailedToRetrieveImagePullSecret) warning event only when that pull fails.
      - Unlinking never needs the secrets to exist.
    type: bool
    default: false
  wait_for_service_account:
    description:
      - With O(state=present), wait up to O(wait_timeout) seconds until the service account exists and
        OpenShift's controller has added its managed registry pull secret to C(imagePullSecrets) (named by the
        service account's C(openshift.io/internal-registry-pull-secret-ref) annotation; C(<sa>-dockercfg-*), with a
        hashed name for names of 48 characters or more) and written a token into it, as the OpenShift
        documentation advises before creating pods.
      - Clusters without the integrated image registry (ImageRegistry capability disabled) never add that secret;
        do not wait there.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait_for_service_account).
    type: int
    default: 120
seealso:
  - module: openshift_ops.images.pull_secret
"""

EXAMPLES = r"""
- name: Let pods of the default service account pull with the quay-robot secret
  openshift_ops.images.secret_link:
    service_account: default
    namespace: project-a
    secrets: [quay-robot]

- name: Link to a service account created just before, once OpenShift has set it up
  openshift_ops.images.secret_link:
    service_account: pipeline
    namespace: project-a
    secrets: [secret/quay-robot, secret/git-credentials]
    purpose: [pull, mount]
    wait_for_service_account: true
    wait_timeout: 300

- name: Unlink an old pull secret
  openshift_ops.images.secret_link:
    service_account: builder
    namespace: project-a
    secrets: [old-registry]
    state: absent
"""

RETURN = r"""
action:
  description: What happened.
  returned: always
  type: str
  choices: [linked, unlinked, unchanged]
  sample: linked
service_account:
  description: The service account's lists after the task (names only).
  returned: always
  type: dict
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
      description: Names in C(imagePullSecrets), in order.
      type: list
      elements: str
      returned: always
    secrets:
      description: Names in C(secrets), in order.
      type: list
      elements: str
      returned: always
  sample:
    name: default
    namespace: project-a
    image_pull_secrets: [default-dockercfg-x7k2p, quay-robot]
    secrets: []
added:
  description: Names added, by purpose.
  returned: always
  type: dict
  sample: {pull: [quay-robot]}
removed:
  description: Names removed, by purpose.
  returned: always
  type: dict
  sample: {}
missing_secrets:
  description: Secrets linked with O(allow_missing=true) that do not exist.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

# our module_utils come from the payload's zip: compiled once per host, not on every run (docs/execution.md)
from ansible_collections.openshift_ops.images.plugins.module_utils._bytecode_cache import install_bytecode_cache

install_bytecode_cache()

from ansible_collections.openshift_ops.images.plugins.module_utils._operation import run_module
from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.interface import SECRET_LINK


def main() -> None:
    run_module(AnsibleModule(**SECRET_LINK.spec_arguments(), supports_check_mode=True), SECRET_LINK)


if __name__ == "__main__":
    main()
