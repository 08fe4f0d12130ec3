# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``secret_link`` module's request and core entry point, over the linking service of
``_service_accounts/linking.py`` (which ``pull_secret``'s ``link_service_accounts`` uses too).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import Outcome, RunContext
from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.request import SecretLinkRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._service_accounts.linking import link_secrets


def apply_secret_link(client: KubeApi, request: SecretLinkRequest, run: RunContext) -> Outcome:
    """Run the ``secret_link`` module's request."""
    namespace = request.namespace or client.default_namespace
    outcome = link_secrets(
        client,
        namespace=namespace,
        service_account=request.service_account,
        names=request.secrets,
        purposes=request.purposes,
        state=request.state,
        allow_missing=request.allow_missing,
        wait=request.wait_for_service_account,
        wait_timeout=request.wait_timeout,
        check_mode=run.check_mode,
    )
    action = ("linked" if request.state == "present" else "unlinked") if outcome.changed else "unchanged"
    result: dict[str, Any] = {
        "changed": outcome.changed,
        "action": action,
        "service_account": outcome.as_result(),
        "added": outcome.added,
        "removed": outcome.removed,
        "missing_secrets": outcome.missing_secrets,
    }
    if run.want_diff:
        result["diff"] = {
            "before_header": f"serviceaccount {namespace}/{request.service_account}",
            "after_header": f"serviceaccount {namespace}/{request.service_account}",
            "before": outcome.lists_before,
            "after": outcome.lists_after,
        }
    return Outcome(result, outcome.warnings)
