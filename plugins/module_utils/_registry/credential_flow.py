# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check of the credentials ``pull_secret`` and ``global_pull_secret`` write, with their registries, and how its
answers become a failure, the ``credential_checks`` result and warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import RegistryCheckError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import UNCHECKED
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import RegistryTls


def registry_check_failure(results: Iterable[Any]) -> str | None:
    """One line per credential that was refused or could not be checked because of the registry (unreachable, not
    a v2 answer), or None. Entries that hold nothing checkable (``unchecked``) are left to
    :func:`registry_check_warnings`."""
    failed = [result for result in results if not result.ok and result.outcome != UNCHECKED]
    if not failed:
        return None
    lines = "\n".join(f"- {result.key}: {result.detail}" for result in failed)
    return f"validate_credentials: {len(failed)} credential(s) refused or not verifiable; nothing was written:\n{lines}"


def registry_check_warnings(results: Iterable[Any]) -> list[str]:
    """Entries that were not checked (wildcard keys, token-only entries) and why."""
    return [f"validate_credentials: {result.key}: {result.detail}" for result in results if result.outcome == UNCHECKED]


class CredentialChecks:
    """The registry checks of one run. An entry is checked when a plan is about to write it, once however often the
    write is planned again (after a conflict); an entry the run does not write is never sent to its registry."""

    def __init__(self, *, check: Callable[..., list[Any]], tls: RegistryTls) -> None:
        self._check = check
        self._tls = tls
        self._answers: dict[str, Any] = {}  # registry key -> the registry's answer, in the order checked

    def ensure_checked(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        """Check those of ``entries`` not checked yet. A refused or unverifiable credential raises
        RegistryCheckError listing each, before anything is written."""
        pending = {key: entry for key, entry in entries.items() if key not in self._answers}
        if not pending:
            return
        answers = self._check(pending, ca_data=self._tls.ca_data, validate_certs=self._tls.validate_certs)
        failure = registry_check_failure(answers)
        if failure:
            raise RegistryCheckError(failure)
        self._answers.update(zip(pending, answers, strict=True))

    def report(self) -> tuple[list[dict[str, Any]], list[str]]:
        """(the ``credential_checks`` result, one item per registry key checked; the warnings about them)."""
        answers = list(self._answers.values())
        checks = [
            {"registry": answer.key, "ok": answer.ok, "outcome": answer.outcome, "detail": answer.detail}
            for answer in answers
        ]
        return checks, registry_check_warnings(answers)
