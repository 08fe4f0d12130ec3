#!/usr/bin/python
# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: global_pull_secret
short_description: Add, rotate or remove registry credentials in the OpenShift global pull secret
version_added: 0.1.0
description:
  - Edits the cluster-wide pull secret C(openshift-config/pull-secret) that every node uses to pull images, as the
    documented C(oc get secret) / C(oc registry login --to) / C(oc set data) procedure does, in one idempotent task.
  - Merges at the JSON level. Every entry, field and top-level key that the task does not name stays exactly as it
    was, including the C(email) fields and the C(cloud.openshift.com) Telemetry entry (C(oc registry login) drops
    every C(email) and every unknown field). A document that would change only in whitespace or key order is not
    written.
  - Reads the secret with its C(resourceVersion) and writes it back with only C(.dockerconfigjson) changed (other
    data keys, labels and annotations are kept). When another writer got there first (HTTP 409) the change is
    applied again to the fresh document, so concurrent tasks adding different registries all land.
  - Never writes when the secret cannot be read, its content does not parse as a JSON object, its type is not
    C(kubernetes.io/dockerconfigjson), or the result fails the auth document checks (for example an C(auth) that
    is not base64 of C(user:password), which would break every pull on the nodes). The error says so.
  - Removing or changing the C(cloud.openshift.com) entry, also by O(replace=true) without it, is refused unless
    O(allow_telemetry_change=true).
  - The Machine Config Operator renders the new secret into C(/var/lib/kubelet/config.json) on every node. By
    default that needs no drain and no reboot (OpenShift 4.7.4 and later), but the cluster's node disruption policy
    decides; the task warns when the policy applies anything else (C(Drain), C(Reboot), a service restart). With
    O(wait=true) the task waits for every MachineConfigPool to finish.
  - On a hosted control plane (HyperShift; C(infrastructures.config.openshift.io/cluster) reports
    C(controlPlaneTopology=External)) a change to C(openshift-config/pull-secret) is refused before writing, as it is
    reconciled from the HostedCluster on the management cluster and does not reach the nodes. The message names
    the HostedCluster's pull secret and C(kube-system/additional-pull-secret) instead.
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
    description: Predicts exactly what a real run changes; nothing is written, no backup file is made, no wait.
  diff_mode:
    support: full
    description: Shows registry keys, user names, e-mails and credential fingerprints before and after; never secrets.
options:
  name:
    description:
      - Name of the Secret.
    type: str
    default: pull-secret
  namespace:
    description:
      - Namespace of the Secret. Change it only for clusters that keep the global pull secret elsewhere.
    type: str
    default: openshift-config
  state:
    description:
      - V(present) merges the entries of O(registries), O(auth_file) and O(auth_content) in (adding new keys,
        replacing the entries of existing ones) and removes O(remove_registries).
      - V(absent) removes the registry keys given in O(registries[].server) (no credentials needed) and
        O(remove_registries). O(auth_file), O(auth_content) and O(replace) are not used with it.
      - Keys are removed with every equivalent spelling (for example C(https://quay.io) and C(quay.io), or
        C(docker.io) and C(https://index.docker.io/v1/)), as the nodes would read them as one registry.
    type: str
    choices: [present, absent]
    default: present
  remove_registries:
    description:
      - Registry keys to remove. With O(state=present) the removal and the additions are one write, which rotates
        a registry to a new key atomically.
      - A key both given with credentials and listed here is refused.
    type: list
    elements: str
    default: []
  replace:
    description:
      - V(true) makes the given entries the whole document; every other entry and top-level field is dropped.
      - The C(cloud.openshift.com) entry must then be given unchanged, or O(allow_telemetry_change=true) set.
      - Refused without any entry, and together with O(remove_registries).
    type: bool
    default: false
  allow_telemetry_change:
    description:
      - Allow the task to remove, add or change the C(cloud.openshift.com) entry in any way (also its C(email)).
      - That entry's C(auth) is the cluster's Telemetry token. Without it Telemetry and the Insights Operator stop
        reporting to Red Hat, which is the documented way to opt out of remote health reporting. Replacing it with
        another account's pull secret before the ownership transfer is started in OpenShift Cluster Manager stops
        the cluster reporting to OpenShift Cluster Manager.
    type: bool
    default: false
  backup:
    description:
      - Before writing, save the document as it was stored (the exact bytes) in a new file with mode C(0600) on the
        managed host, and return its path in RV(backup_file). Restore it with
        C(oc set data secret/pull-secret -n openshift-config --from-file=.dockerconfigjson=<backup_file>).
      - No file is made when nothing changes, nor in check mode.
    type: bool
    default: false
  backup_dir:
    description:
      - Directory for the backup file, created with mode C(0700) when missing.
      - Defaults to C(~/.ansible/backups/openshift_ops.images) of the user the module runs as.
    type: path
  wait:
    description:
      - After a change, wait until every MachineConfigPool targets a rendered config whose
        C(/var/lib/kubelet/config.json) holds the entries this task wrote (and none it removed), and reports all its
        machines updated, ready and available, C(Updated=True) and C(Updating=False). Decided by the content of the
        rendered MachineConfig, not by a change of its name, so a quick revert or another writer's change that drops
        this task's entries is not taken for the rollout.
      - Before writing, the task refuses (nothing is written) when the wait could never finish, and says why - no
        MachineConfigPools, a paused pool, a pool already degraded, or the MCO's template controller failing
        (ControllerConfig C(TemplateControllerFailing)).
      - During the wait, a pool that becomes paused or degraded (C(RenderDegraded), C(NodeDegraded),
        C(PinnedImageSetsDegraded), C(ImageBuildDegraded), C(Degraded) or degraded machines) fails the task at once
        with its condition message. So does C(TemplateControllerFailing), the MCO's only signal that it cannot render
        the pull secret (no pool condition changes then). The message of that condition is redacted, as the MCO quotes
        the whole pull secret in it.
      - Nothing is waited for when nothing changed; a task re-run after a timeout therefore returns without
        waiting. Check the pools with C(oc get mcp).
      - A finished rollout means every node has the new C(/var/lib/kubelet/config.json), not that pods use it yet.
        The kubelet reads that file through a credential cache that lives 5 minutes, so pods pull with new
        credentials, and stop pulling with removed ones, up to 5 minutes after their node was updated. The task
        does not wait for that.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true). Pools update C(maxUnavailable) nodes at a time, so large pools take a
        while. The failure message lists the pools that were not done.
    type: int
    default: 1800
notes:
  - O(validate_credentials) does not check the C(cloud.openshift.com) entry, because it holds the Telemetry token, not
    registry credentials.
  - A write that lands is not undone when the wait fails; the failure says that the secret was updated.
  - Clusters before the fix of Bug 1984592 (OpenShift 4.7.4 up to the early 4.9 z-streams) need the
    openshift-apiserver pods restarted before image stream imports see new credentials.
  - Path-scoped keys (C(quay.io/my-org)) are read by the kubelet as a string prefix and by CRI-O by whole path
    components; the module warns about keys the two read differently.
  - The user running the task needs C(get) and C(update) on the secret; with O(wait=true) also C(list) on
    C(machineconfigpools.machineconfiguration.openshift.io) and C(get) on
    C(machineconfigs.machineconfiguration.openshift.io). It reads C(controllerconfigs), C(machineconfigurations)
    (C(operator.openshift.io)) and C(infrastructures) (C(config.openshift.io)) when it may, and does without them
    when it may not.
seealso:
  - module: openshift_ops.images.pull_secret
  - name: Updating the global cluster pull secret
    description: The documented procedure this module implements.
    link: https://docs.openshift.com/container-platform/latest/openshift_images/managing_images/using-image-pull-secrets.html
"""

EXAMPLES = r"""
- name: Allow the nodes to pull from a private registry (the documented procedure as one task)
  openshift_ops.images.global_pull_secret:
    registries:
      - server: privateregistry.example.com
        username: developer
        password: "{{ vault_registry_password }}"
    validate_credentials: true
    backup: true
    wait: true

- name: Rotate a registry to a new host in one write
  openshift_ops.images.global_pull_secret:
    registries:
      - server: registry-new.example.com
        auth: "{{ vault_registry_auth }}"
    remove_registries: [registry-old.example.com]

- name: Remove a retired registry
  openshift_ops.images.global_pull_secret:
    state: absent
    remove_registries: [registry-old.example.com]

- name: Replace the whole pull secret with a new one from console.redhat.com, keeping Telemetry as it is
  openshift_ops.images.global_pull_secret:
    auth_file: /root/pull-secret.json
    replace: true

- name: Opt out of remote health reporting
  openshift_ops.images.global_pull_secret:
    state: absent
    remove_registries: [cloud.openshift.com]
    allow_telemetry_change: true
"""

RETURN = r"""
registries:
  description: The registry keys in the secret after the task, with their user names; never credentials.
  returned: always
  type: list
  elements: dict
  contains:
    server:
      description: The registry key as stored.
      type: str
      returned: always
    username:
      description: The user name of the entry (decoded from C(auth) when it has one), V(null) when there is none.
      type: str
      returned: always
  sample:
    - server: cloud.openshift.com
      username: openshift-release-dev+ocm_access_0123456789abcdef
    - server: privateregistry.example.com
      username: developer
added:
  description: Registry keys the task added.
  returned: always
  type: list
  elements: str
  sample: [privateregistry.example.com]
updated:
  description: Registry keys whose entry the task changed.
  returned: always
  type: list
  elements: str
  sample: []
removed:
  description: Registry keys the task removed.
  returned: always
  type: list
  elements: str
  sample: []
backup_file:
  description: Path of the backup of the previous document on the managed host; V(null) without a write.
  returned: always
  type: str
  sample: ~/.ansible/backups/openshift_ops.images/openshift-config_pull-secret.20250101T120000Z.3f9c1a7be2d45680.json
rollout:
  description:
    - With O(wait=true) and a change, each MachineConfigPool's progress, keyed by pool name; empty otherwise.
    - Also returned when the wait fails.
  returned: always
  type: dict
  contains:
    before:
      description: The pool's rendered config before the write.
      type: str
      returned: always
    after:
      description: The rendered config the pool targets at the end of the wait.
      type: str
      returned: always
    machine_count:
      description: Machines in the pool.
      type: int
      returned: always
    updated_machine_count:
      description: Machines on the pool's current rendered config.
      type: int
      returned: always
    ready_machine_count:
      description: Machines updated and ready.
      type: int
      returned: always
    unavailable_machine_count:
      description: Machines being updated or otherwise not available.
      type: int
      returned: always
    degraded_machine_count:
      description: Machines that failed to update.
      type: int
      returned: always
    state:
      description: Where the pool stands.
      type: str
      returned: always
      choices: [rendering, updating, done, paused, degraded, gone]
    detail:
      description: What the pool is waiting for (a render holding the change, machines, conditions), or why it stopped.
      type: str
      returned: always
    done:
      description: Whether the pool finished rolling out the change.
      type: bool
      returned: always
  sample:
    worker:
      before: rendered-worker-5c8f0d2ab1e94c6f
      after: rendered-worker-9e1b44c07da3f2a8
      machine_count: 3
      updated_machine_count: 3
      ready_machine_count: 3
      unavailable_machine_count: 0
      degraded_machine_count: 0
      state: done
      detail: all 3 machines on rendered-worker-9e1b44c07da3f2a8
      done: true
credential_checks:
  description:
    - Result of O(validate_credentials), one item per registry key checked, that is per entry this run writes (adds
      or changes).
    - Empty when the secret already holds every given entry as it would be written; no registry was asked then.
  returned: when O(validate_credentials=true) and entries are given
  type: list
  elements: dict
  contains:
    registry:
      description: The registry key.
      type: str
      returned: always
    ok:
      description: Whether the registry accepted the credential.
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
    - registry: privateregistry.example.com
      ok: true
      outcome: accepted
      detail: accepted with basic auth
"""

from ansible.module_utils.basic import AnsibleModule

# our module_utils come from the payload's zip: compiled once per host, not on every run (docs/execution.md)
from ansible_collections.openshift_ops.images.plugins.module_utils._bytecode_cache import install_bytecode_cache

install_bytecode_cache()

from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.interface import (
    GLOBAL_PULL_SECRET,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import run_module


def main() -> None:
    run_module(AnsibleModule(**GLOBAL_PULL_SECRET.spec_arguments(), supports_check_mode=True), GLOBAL_PULL_SECRET)


if __name__ == "__main__":
    main()
