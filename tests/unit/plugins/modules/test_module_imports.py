# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A shipped module compiles every module_utils file it imports on every run (they come from the payload's zip), so
what only some options need is imported inside the function that needs it. Each module is imported here in a
fresh Python, and what its import left in ``sys.modules`` is held against the files it must not load."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

MODULE_UTILS = "ansible_collections.openshift_ops.images.plugins.module_utils"

# used only when a request fails, a proxy or a kubeconfig's exec plugin or non-kubectl YAML is involved
EVERY_MODULE_DEFERS = ("_kube.api_errors", "_http.proxy", "_kube.exec_credential", "_kube.yaml_subset")
DEFERRED = {
    "image_tag": EVERY_MODULE_DEFERS,
    # the registry check only with validate_credentials; image references only for the credential lookups;
    # service accounts only with link_service_accounts
    "pull_secret": (
        *EVERY_MODULE_DEFERS,
        "_registry.check",
        "_registry.credential_flow",
        "_images.reference",
        "_service_accounts.linking",
        "_service_accounts.secret_links",
    ),
    # the MachineConfig rollout only once a write is due
    "global_pull_secret": (
        *EVERY_MODULE_DEFERS,
        "_registry.check",
        "_registry.credential_flow",
        "_images.reference",
        "_global_pull_secret.rollout",
    ),
    # a pull secret's document is read only by the modules that write one
    "secret_link": (*EVERY_MODULE_DEFERS, "_registry.redaction", "_registry.auth_document", "_images.reference"),
    "image_puller_binding": (*EVERY_MODULE_DEFERS, "_registry.auth_document", "_images.reference"),
}
# gzip: only the rollout reads compressed MachineConfig contents
NEVER_IMPORTED = ("yaml", "hypothesis", "concurrent.futures", "gzip")


def modules_loaded_by_import(module: str) -> set[str]:
    script = (
        "import json, sys\n"
        f"import ansible_collections.openshift_ops.images.plugins.modules.{module}\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(run.stdout))


@pytest.mark.parametrize("module", sorted(DEFERRED))
def test_a_module_imports_only_what_every_task_needs(module: str) -> None:
    loaded = modules_loaded_by_import(module)
    assert f"{MODULE_UTILS}._kube.client" in loaded  # the import did load the module's core
    assert sorted(name for name in DEFERRED[module] if f"{MODULE_UTILS}.{name}" in loaded) == []
    assert sorted(name for name in NEVER_IMPORTED if name in loaded) == []
