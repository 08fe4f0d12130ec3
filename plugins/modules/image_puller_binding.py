#!/usr/bin/python
# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_puller_binding
short_description: Let service accounts, groups or users pull images from a project
version_added: 0.1.0
description:
  - Grants or revokes a ClusterRole, by default C(system:image-puller), in the project that holds the images, the
    declarative and idempotent form of C(oc policy add-role-to-user system:image-puller
    system:serviceaccount:project-a:default -n project-b) and C(oc policy add-role-to-group system:image-puller
    system:serviceaccounts:project-a -n project-b), and of their C(remove-role-from-*) reverses.
  - A subject already held by any RoleBinding for the role in the namespace is left alone, whatever that binding is
    called (for example C(system:image-puller-0) made by C(oc policy), or the default C(system:image-pullers)).
    Other subjects are added to one binding, O(binding_name), created when missing, with the
    binding's C(resourceVersion) and a retry on conflicts. Unlike C(oc policy), re-running never creates another
    C(ROLE-N) binding.
  - With O(state=absent) the subjects are removed from every binding for the role. A binding left empty is deleted,
    except OpenShift's default project bindings (C(system:image-pullers), C(system:image-builders),
    C(system:deployers)) and bindings annotated C(rbac.authorization.kubernetes.io/autoupdate=false), which are
    kept with no subjects. OpenShift's controller re-creates a deleted C(system:image-pullers) with the group
    C(system:serviceaccounts:<namespace>) in it, so emptying it is the only way to revoke that default grant.
  - With O(verify=true) the result is proven with a SubjectAccessReview for C(get) on C(imagestreams/layers) in
    group C(image.openshift.io), the permission a pull needs.
author:
  - openshift_ops maintainers (@openshift-ops)
extends_documentation_fragment:
  - openshift_ops.images.connection
  - openshift_ops.images.execution
attributes:
  check_mode:
    support: full
    description: Predicts C(changed) exactly; access reviews see the cluster as it is before the change.
  diff_mode:
    support: full
    description: Shows the role and subjects of each RoleBinding the run changes.
options:
  namespace:
    description:
      - The project the images live in. The RoleBinding is made there.
      - Defaults to the namespace of the kubeconfig context.
    type: str
  service_accounts:
    description:
      - Service accounts to grant, each as C(NAMESPACE:NAME), as C(system:serviceaccount:NAMESPACE:NAME), or as a
        dictionary with keys C(namespace) and C(name).
      - Namespaces must be DNS-1123 labels and names DNS-1123 subdomains; anything else fails before any change.
    type: list
    elements: raw
    default: []
  from_namespaces:
    description:
      - Grant every service account of these projects, present and future, through the group
        C(system:serviceaccounts:<project>).
    type: list
    elements: str
    default: []
  groups:
    description:
      - Any other groups to grant, by name.
    type: list
    elements: str
    default: []
  users:
    description:
      - Users to grant, by name.
      - A name of the form C(system:serviceaccount:NAMESPACE:NAME) is taken as that service account, as
        C(oc policy) does.
    type: list
    elements: str
    default: []
  role:
    description:
      - The ClusterRole to bind. V(system:image-puller) allows pulling; V(system:image-pusher) allows pushing as well.
      - The role V(view) does not allow pulling images.
    type: str
    default: system:image-puller
  binding_name:
    description:
      - The RoleBinding that subjects not yet bound are added to; it is created when missing. If it exists it must
        reference ClusterRole O(role), else the module fails.
      - When not set, the binding named after O(role) is used (for example V(system:image-puller)).
      - With O(state=absent), only this binding is edited; when not set, every binding for O(role) is.
    type: str
  verify:
    description:
      - After the change, ask the API server with a SubjectAccessReview whether each subject may pull
        (C(get imagestreams/layers) in the namespace), as the service account with its groups, as a member of the
        group, or as the user with the group C(system:authenticated).
      - When SubjectAccessReviews are forbidden, a LocalSubjectAccessReview in O(namespace) is used, which a
        project admin may create.
      - With O(state=present) the module fails when a subject still may not pull, and before any change when
        O(role) does not exist or does not allow pulls. In check mode, subjects the run would add are not failed.
      - With O(state=absent) the module warns when a subject may still pull, naming the bindings that allow it.
    type: bool
    default: true
  wait_for_service_accounts:
    description:
      - Wait up to O(wait_timeout) seconds for missing service accounts (and the namespaces of O(from_namespaces))
        to appear before changing anything, and fail if they do not. OpenShift creates a project's C(default)
        service account shortly after the project.
      - When false, a missing service account or namespace only gives a warning, since pods there cannot pull yet.
    type: bool
    default: false
  wait_timeout:
    description:
      - How long O(wait_for_service_accounts) waits, in seconds.
    type: int
    default: 120
  state:
    description:
      - V(present) grants the role to the subjects, V(absent) revokes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Subjects are compared by kind, name and namespace, the way the authorizer reads them; a ServiceAccount entry
    with no namespace counts as one of the binding's namespace, and a User named C(system:serviceaccount:NS:NAME)
    counts as that service account.
  - Binding a ClusterRole needs the permissions it grants in O(namespace), or the C(bind) verb on it.
seealso:
  - name: Allowing pods to reference images across projects
    description: The OpenShift procedure this module automates.
    link: https://docs.openshift.com/container-platform/latest/openshift_images/managing_images/using-image-pull-secrets.html
"""

EXAMPLES = r"""
- name: Let the default service account of project-a pull images from project-b
  openshift_ops.images.image_puller_binding:
    namespace: project-b
    service_accounts:
      - project-a:default

- name: Let every service account of project-c pull images from project-b
  openshift_ops.images.image_puller_binding:
    namespace: project-b
    from_namespaces:
      - project-c

- name: Grant a builder account push rights, waiting for it to be created
  openshift_ops.images.image_puller_binding:
    namespace: project-b
    service_accounts:
      - namespace: ci
        name: builder
    role: system:image-pusher
    wait_for_service_accounts: true
    wait_timeout: 60

- name: Revoke both grants
  openshift_ops.images.image_puller_binding:
    namespace: project-b
    service_accounts:
      - system:serviceaccount:project-a:default
    from_namespaces:
      - project-c
    state: absent

- name: Stop project-b's own service accounts from pulling its images (empties the default binding)
  openshift_ops.images.image_puller_binding:
    namespace: project-b
    from_namespaces:
      - project-b
    state: absent
"""

RETURN = r"""
bindings:
  description: Names of the RoleBindings the run created, changed or deleted (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [system:image-puller]
subjects:
  description: One entry per requested subject, in the order given, without duplicates.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: V(ServiceAccount), V(Group) or V(User).
      type: str
      sample: ServiceAccount
    name:
      description: The service account, group or user name.
      type: str
      sample: default
    namespace:
      description: The service account's namespace.
      type: str
      returned: for service accounts
      sample: project-a
    subject:
      description: The name the authorizer sees (a service account's user name, or the group or user name).
      type: str
      sample: system:serviceaccount:project-a:default
    action:
      description:
        - V(added) to a binding, V(already_bound) by a binding for the role, V(removed) from bindings, or
          V(not_bound) by any binding for the role.
      type: str
      sample: added
    bindings:
      description: The bindings for the role that hold the subject (present), or that it was removed from (absent).
      type: list
      elements: str
      sample: [system:image-puller]
    exists:
      description: Whether the service account (or, for C(system:serviceaccounts:<ns>), the namespace) exists.
      type: bool
      returned: with O(state=present), when it could be read
      sample: true
    allowed:
      description: Whether the authorizer allows the subject to pull from the namespace (after the run; in check
        mode, now).
      type: bool
      returned: when O(verify=true)
      sample: true
    reason:
      description: The authorizer's reason, or why it refused.
      type: str
      returned: when O(verify=true)
      sample: >-
        RBAC: allowed by RoleBinding "system:image-puller/project-b" of ClusterRole "system:image-puller"
        to ServiceAccount "default/project-a"
    granted_by:
      description:
        - Bindings through which the subject may still pull after O(state=absent).
        - In check mode it is predicted from the bindings that would remain; an empty list means the run would end
          the subject's access.
      type: list
      elements: str
      returned: with O(state=absent) and O(verify=true), when the subject may still pull (in check mode, may pull now)
      sample: ["ClusterRoleBinding pull-everything (ClusterRole system:image-puller)"]
diff:
  description: The role and subjects of the changed RoleBindings, before and after (a missing key is no binding).
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      system:image-puller:
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:image-puller}
        subjects: [{kind: ServiceAccount, name: default, namespace: project-a}]
"""

from ansible.module_utils.basic import AnsibleModule

# our module_utils come from the payload's zip: compiled once per host, not on every run (docs/execution.md)
from ansible_collections.openshift_ops.images.plugins.module_utils._bytecode_cache import install_bytecode_cache

install_bytecode_cache()

from ansible_collections.openshift_ops.images.plugins.module_utils._image_puller_binding.interface import (
    IMAGE_PULLER_BINDING,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import run_module


def main() -> None:
    run_module(AnsibleModule(**IMAGE_PULLER_BINDING.spec_arguments(), supports_check_mode=True), IMAGE_PULLER_BINDING)


if __name__ == "__main__":
    main()
