# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the registry credential check option; the argument spec is
``_registry/credential_options.credential_check_argument_spec``, which adds the options of
``openshift_ops.images.registry_tls``."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  validate_credentials:
    description:
      - Before writing, ask each registry whether it accepts the credentials this task writes for it, with the
        Docker Registry v2 handshake (a C(/v2/) ping, then basic auth or a bearer token from the registry's token
        service, with a repository scope for a path-scoped key).
      - Only the entries this task adds or changes are checked, also in check mode. A given entry the secret already
        holds exactly as it would be written is not sent to its registry and not listed in RV(credential_checks), so
        a task that changes nothing contacts no registry. To test credentials already stored in the cluster, use
        M(openshift_ops.images.image_pull_access_info) with
        O(openshift_ops.images.image_pull_access_info#module:check_credentials=true).
      - A credential the registry rejects, or a registry that cannot be reached, fails the task with one line per
        registry and nothing is written. An entry that holds nothing to check (a token-only entry, a wildcard key)
        only gives a warning.
      - The registries are reached from where the module runs, as podman or skopeo there would reach them, through
        the proxy that C(HTTPS_PROXY) names (C(HTTP_PROXY) for a registry key written with C(http://)), unless
        C(NO_PROXY) names the registry. Upper-case names win over lower-case ones; C(localhost) and loopback
        addresses are proxied too unless C(NO_PROXY) lists them. Set these variables with the task's C(environment).
        O(proxy) and O(no_proxy) are for the cluster connection only.
      - C(oc registry login) does not check credentials, whatever its help text suggests.
    type: bool
    default: false
"""
