# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of how a module's check with the registries verifies them; the argument spec is
``_registry/credential_options.registry_tls_argument_spec``."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  registry_ca_cert:
    description:
      - CA certificate file (PEM) to verify the registries' TLS certificates with when this module checks
        credentials with them. Defaults to the system trust store.
      - The file is read on the managed host before anything connects; a missing file, or one with no PEM
        certificate, fails the task.
    type: path
  registry_validate_certs:
    description:
      - Whether the check of credentials with the registries verifies their TLS certificates.
      - V(false) marks the registries insecure, as Docker's C(insecure-registries) and an image import's C(insecure)
        do. TLS is not verified, and credentials may be sent over plain HTTP to a registry whose key starts with
        C(http://). Otherwise they never are, and such a check fails.
      - Redirects are never followed, so credentials go only to the registry and to the token service it names.
    type: bool
    default: true
"""
