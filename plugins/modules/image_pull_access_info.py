#!/usr/bin/python
# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_pull_access_info
short_description: Explain why a pod can or cannot pull an image
version_added: 0.2.0
description:
  - A read-only diagnosis of one image pull, as the kubelet, CRI-O, the registry and the OpenShift authorizer would
    see it. Nothing is ever written.
  - Lists the credentials the kubelet would try, in its order (RV(candidates)). They come from the pod's own
    C(imagePullSecrets), or, when the pod lists none, from its service account's C(imagePullSecrets) (the
    ServiceAccount admission plugin copies them into pods created without a list), and then from the node's
    configuration, which on OpenShift is the global pull secret C(openshift-config/pull-secret). The kubelet's
    matching rules apply, including the most specific key first, path-scoped keys, ports and the Docker Hub names.
  - Says where containers/image (CRI-O on its own, podman, skopeo) would read the global pull secret differently,
    and which credential CRI-O takes when the kubelet has none.
  - Reports pull secrets that are missing, of a type the kubelet ignores, or that cannot be parsed (which makes the
    kubelet fail every pull of the pod).
  - With O(check_credentials=true), asks the registry whether each matching credential may pull the repository,
    with the Docker Registry v2 handshake (a basic auth check, or a bearer token for the C(repository:NAME:pull)
    scope).
  - For an image of the cluster's integrated registry
    (C(image-registry.openshift-image-registry.svc:5000/PROJECT/STREAM), or the hostname configured in
    C(images.config.openshift.io/cluster)), or one named by O(image_stream), asks the authorizer whether the
    service account may pull from the stream's project (C(get) on C(imagestreams/layers)), and names the
    RoleBindings that allow it.
  - Each finding that stops the pull is in RV(problems), with the module or role of this collection that fixes it.
  - Secrets never appear in the result or in the logs; only registry keys, user names and credential fingerprints
    do.
author:
  - openshift_ops maintainers (@openshift-ops)
extends_documentation_fragment:
  - openshift_ops.images.connection
  - openshift_ops.images.execution
  - openshift_ops.images.registry_tls
requirements:
  - Python >= 3.11
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs the same reads and reports the same result.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  namespace:
    description:
      - Project (namespace) of the pod or service account.
      - Defaults to the namespace of the kubeconfig context, else C(default).
    type: str
  image:
    description:
      - The image as a pod would name it, for example C(quay.io/org/app:1.0), C(nginx) or
        C(image-registry.openshift-image-registry.svc:5000/project-b/app:latest).
      - Exactly one of O(image) and O(image_stream) is required.
    type: str
  image_stream:
    description:
      - An image stream of the integrated registry, as C([PROJECT/]STREAM[:TAG]) or C([PROJECT/]STREAM@DIGEST).
        The project defaults to O(namespace) and the tag to C(latest).
      - The pull spec is taken from the stream's C(status.dockerImageRepository) when it can be read, else built
        from the integrated registry's hostname.
      - Exactly one of O(image) and O(image_stream) is required.
    type: str
  service_account:
    description:
      - The service account the pod runs as.
      - A C(serviceAccountName) in O(pod) takes precedence.
    type: str
    default: default
  pod:
    description:
      - A Pod, or just its C(spec), to diagnose as written. Its C(imagePullSecrets) and C(serviceAccountName) take
        precedence over O(service_account).
      - A pod that lists its own C(imagePullSecrets) never gets its service account's.
    type: dict
  check_credentials:
    description:
      - Ask the image's registry whether each credential in RV(candidates) may pull the image's repository.
      - A registry that allows anonymous pulls cannot verify credentials; that is reported as C(anonymous).
      - The registry is reached from where the module runs, as podman or skopeo there would reach it, through the
        proxy that C(HTTPS_PROXY) names (C(HTTP_PROXY) for C(http://)), unless C(NO_PROXY) names the registry.
        O(proxy) and O(no_proxy) are for the cluster connection only.
    type: bool
    default: false
notes:
  - Reading the global pull secret needs C(get) on secrets in C(openshift-config), which project users do not have.
    It is then reported as C(forbidden) (its content unknown), not as empty.
  - The service account's pull secrets reach only pods created after they were linked; a running pod keeps the
    list it was created with. Pass the running pod's spec in O(pod) to diagnose it as it is.
  - The kubelet's side of the diagnosis is checked against a real kubelet (Kubernetes 1.37 on containerd) in the
    collection's tests. What it says of CRI-O (RV(chosen_by) V(containers/image), RV(containers_image)) follows
    containers/image's source and has not been checked against a running CRI-O.
  - On a node, the global pull secret is read through the kubelet's 5-minute credential cache, so a change to it
    reaches pods up to 5 minutes after the node was updated.
seealso:
  - module: openshift_ops.images.pull_secret
  - module: openshift_ops.images.secret_link
  - module: openshift_ops.images.image_puller_binding
  - module: openshift_ops.images.global_pull_secret
"""

EXAMPLES = r"""
- name: Why can't the default service account of project-a pull this image?
  openshift_ops.images.image_pull_access_info:
    namespace: project-a
    image: quay.io/org/app:1.0
    check_credentials: true
  register: pull

- name: Show what stops the pull, with the fix for each
  ansible.builtin.debug:
    var: pull.problems

- name: Diagnose a running pod as it was created
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: project-a
    name: app-7d9f8-abcde
  register: pod

- name: Its first container's image
  openshift_ops.images.image_pull_access_info:
    namespace: project-a
    image: "{{ pod.resources[0].spec.containers[0].image }}"
    pod: "{{ pod.resources[0] }}"

- name: May project-a's builder pull from project-b's image stream?
  openshift_ops.images.image_pull_access_info:
    namespace: project-a
    service_account: builder
    image_stream: project-b/app:latest
"""

RETURN = r"""
changed:
  description: Always V(false).
  returned: always
  type: bool
  sample: false
image:
  description: The image, normalised as the kubelet and containers/image read it.
  returned: always
  type: dict
  contains:
    given:
      description: The pull spec diagnosed (for O(image_stream), the one built for it).
      type: str
      sample: nginx
    name:
      description: Registry and repository, what credential keys are matched against.
      type: str
      sample: docker.io/library/nginx
    registry:
      description: The registry host (and port).
      type: str
      sample: docker.io
    repository:
      description: The repository path in the registry.
      type: str
      sample: library/nginx
    tag:
      description: The tag, C(latest) when neither a tag nor a digest is given, else null for a digest.
      type: str
      sample: latest
    digest:
      description: The digest, or null.
      type: str
      sample: null
default_pull_policy:
  description:
    - The C(imagePullPolicy) the API server sets for a container with this image and no policy of its own.
    - V(Always) for the tag C(latest) (written or implied), else V(IfNotPresent).
  returned: always
  type: str
  sample: Always
service_account:
  description: The service account, and whether it exists (null when it could not be read).
  returned: always
  type: dict
  sample: {namespace: project-a, name: default, exists: true}
pull_secrets_from:
  description:
    - Where the pod's pull secrets come from, V(pod), V(service_account), or V(none).
    - V(unknown) when the pod lists none and the service account could not be read.
  returned: always
  type: str
  sample: service_account
pull_secrets:
  description: Each pull secret of the pod, as the kubelet takes it.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The secret's name.
      type: str
    namespace:
      description: The secret's namespace.
      type: str
    source:
      description: V(pod) or V(service_account).
      type: str
    status:
      description:
        - V(ok); V(missing) (the kubelet pulls without it); V(forbidden) (not readable by this user); V(wrong_type)
          (ignored by the kubelet); V(unparsable) (every pull of the pod fails).
      type: str
    type:
      description: The Secret's type.
      type: str
    keys:
      description: The registry keys it holds.
      type: list
      elements: str
    detail:
      description: Why it could not be used.
      type: str
      returned: when not V(ok)
  sample:
    - {name: quay-pull, namespace: project-a, source: service_account, status: ok,
       type: kubernetes.io/dockerconfigjson, keys: [quay.io/org]}
global_pull_secret:
  description: The global pull secret C(openshift-config/pull-secret), the nodes' credentials.
  returned: always
  type: dict
  contains:
    status:
      description: As in RV(pull_secrets); V(forbidden) means its content is unknown, not that it is empty.
      type: str
    keys:
      description: Its registry keys (empty when it could not be read).
      type: list
      elements: str
  sample: {namespace: openshift-config, name: pull-secret, status: forbidden, keys: []}
candidates:
  description:
    - The credentials the kubelet tries, in its order, until a pull succeeds; the pod's first, then the node's.
  returned: always
  type: list
  elements: dict
  contains:
    secret:
      description: C(NAMESPACE/NAME) of the secret holding it.
      type: str
    source:
      description: V(pod), V(service_account) or V(node).
      type: str
    key:
      description: The registry key that matched.
      type: str
    username:
      description: The registry user name.
      type: str
    fingerprint:
      description: 12 hex digits identifying the credential (never the credential itself).
      type: str
    check:
      description:
        - The registry's answer, with O(check_credentials=true). C(outcome) is V(accepted), V(rejected),
          V(anonymous), V(unreachable), V(unchecked) or V(error); C(accepted) is true only for V(accepted).
      type: dict
      returned: with O(check_credentials=true)
  sample:
    - secret: project-a/quay-pull
      source: service_account
      key: quay.io/org
      username: org+robot
      fingerprint: 3f09c1d2a4b7
      check: {outcome: rejected, accepted: false, detail: "the token service ... rejected user 'org+robot'"}
credential:
  description: The credential tried first (as in RV(candidates), without C(check)), or null when none matches.
  returned: always
  type: dict
chosen_by:
  description:
    - V(kubelet), or V(containers/image) when the kubelet matches nothing and CRI-O takes a key of the global pull
      secret itself; null when nothing matches.
  returned: always
  type: str
  sample: kubelet
containers_image:
  description:
    - What containers/image picks from the global pull secret for the image (C(key), C(helper), C(usable)); null
      when it could not be read.
  returned: always
  type: dict
  sample: {key: quay.io, helper: null, usable: true}
image_stream:
  description:
    - For an image of the integrated registry, its image stream and whether the service account may pull from it
      (C(allowed), null when the access review could not be made), the authorizer's C(reason), and the bindings
      that allow it (C(granted_by), null when RoleBindings could not be listed).
  returned: always (null for other registries)
  type: dict
  sample:
    namespace: project-b
    name: app
    tag: latest
    digest: null
    allowed: true
    reason: 'RBAC: allowed by RoleBinding "system:image-puller/project-b" of ClusterRole "system:image-puller" to ...'
    granted_by: ["RoleBinding project-b/system:image-puller (ClusterRole system:image-puller)"]
problems:
  description: What stops the pull, each with the module or role of this collection that fixes it. Empty when
    nothing was found.
  returned: always
  type: list
  elements: dict
  contains:
    problem:
      description: What is wrong.
      type: str
    fix:
      description: How to fix it.
      type: str
  sample:
    - problem: service account project-a:default may not pull from project project-b (get imagestreams/layers is
        denied)
      fix: "openshift_ops.images.image_puller_binding (namespace: project-b, service_accounts: [project-a:default])"
notes:
  description: What could not be known (unreadable secrets, forbidden reviews), and keys the kubelet and
    containers/image read differently.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

# our module_utils come from the payload's zip: compiled once per host, not on every run (docs/execution.md)
from ansible_collections.openshift_ops.images.plugins.module_utils._bytecode_cache import install_bytecode_cache

install_bytecode_cache()

from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info.interface import (
    IMAGE_PULL_ACCESS_INFO,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import run_module


def main() -> None:
    run_module(
        AnsibleModule(**IMAGE_PULL_ACCESS_INFO.spec_arguments(), supports_check_mode=True), IMAGE_PULL_ACCESS_INFO
    )


if __name__ == "__main__":
    main()
