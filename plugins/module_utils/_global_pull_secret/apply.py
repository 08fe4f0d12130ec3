# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reads and writes of the ``global_pull_secret`` module: the conflict-safe update of the secret, the checks of
the credentials each plan writes, the backup file on the managed host and the wait for the MachineConfigPools.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ForbiddenError,
    ImagesError,
    InvalidInputError,
    PartialChangeError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.plan import (
    NOTHING_WRITTEN,
    TELEMETRY_KEY,
    DocumentChange,
    DocumentPlan,
    SecretWrite,
    plan_secret_write,
    redacted_diff,
    registries_result,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.request import (
    GlobalPullSecretRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import Outcome, RunContext
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import (
    document_warnings,
    entries_written,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_lookup import (
    key_reading_warnings,
)

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import RolloutTarget

# Twenty playbooks adding twenty registries at once must all land: each 409 means another writer succeeded.
WRITE_ATTEMPTS = 30
POLL_INTERVAL = 3.0


def _backup_prefix(where: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", where.replace("/", "_")) + "."


def write_backup(directory: str, *, where: str, content: bytes, path: str | None = None) -> str:
    """Write ``content`` to a new 0600 file in ``directory`` (created 0700), or over ``path`` from an earlier
    attempt of the same run; return the path. Errors name the directory, never the content.

    The bytes go to a temporary file created in the same directory with ``O_CREAT | O_EXCL`` and mode 0600
    (``mkstemp``: private from its first moment, whatever the umask, and never an existing file or symlink), which
    is then renamed into place: the backup appears whole or not at all, and ``path`` is replaced the same way."""
    directory = os.path.expanduser(directory)
    temporary: str | None = None
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if path is None:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            # A name nobody can predict: the directory may be shared (backup_dir: /tmp).
            path = os.path.join(directory, f"{_backup_prefix(where)}{stamp}.{secrets.token_hex(8)}.json")
        handle, temporary = tempfile.mkstemp(prefix=f".{_backup_prefix(where)}", suffix=".tmp", dir=directory)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)  # rename(2): atomic, and it replaces a symlink rather than following it
        temporary = None
        _sync_directory(directory)
    except OSError as error:
        raise InvalidInputError(
            f"cannot write the backup of the secret {where} in {directory}: {error.strerror or error}; "
            f"{NOTHING_WRITTEN}. Set backup_dir to a writable directory"
        ) from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return path


def _sync_directory(directory: str) -> None:
    """Make the rename durable (a crash right after the write must not lose the backup)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


GLOBAL_PULL_SECRET = ("openshift-config", "pull-secret")
_UNPAUSE = 'oc patch mcp/<pool> --type merge -p \'{"spec":{"paused":false}}\''


def _optional_read(client: KubeApi, path: str) -> dict[str, Any] | None:
    """An object the module can do without (missing API, no permission): None when it cannot be read."""
    try:
        return client.get(path, allow_missing=True)
    except ImagesError:
        return None


class _WritePreconditions:
    """What the cluster says before the write: why a write would be pointless or a wait could never finish, and the
    pools to wait for. Read only once a write is due (a run with nothing to change reads none of it), and once."""

    def __init__(self, client: KubeApi, request: GlobalPullSecretRequest) -> None:
        self._client = client
        self._request = request
        self._read = False
        self.before: dict[str, str] = {}
        self.problem: str | None = None
        self.watch_template_controller = True

    def _evaluate(self) -> None:
        from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import (  # noqa: PLC0415 - compiled only when needed
            INFRASTRUCTURE_PATH,
            is_hosted_control_plane,
        )

        client, request = self._client, self._request
        if (request.namespace, request.name) == GLOBAL_PULL_SECRET and is_hosted_control_plane(
            _optional_read(client, INFRASTRUCTURE_PATH)
        ):
            self.problem = (
                "this cluster's control plane is hosted (infrastructures.config.openshift.io/cluster reports "
                "controlPlaneTopology: External): openshift-config/pull-secret is reconciled from the HostedCluster's "
                "spec.pullSecret on the management cluster, and nodes do not get it from a Machine Config Operator. "
                "Change the HostedCluster's pull secret there, or add entries to kube-system/additional-pull-secret "
                "of this cluster (name: additional-pull-secret, namespace: kube-system), which HyperShift merges in"
            )
            return
        if request.wait:
            self.problem = self._pools_problem(client) or self._renderer_problem(client)

    def _pools_problem(self, client: KubeApi) -> str | None:
        from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import (  # noqa: PLC0415 - compiled only when needed
            POOLS_PATH,
            pools_that_block,
            record_pool_configurations,
        )

        try:
            listing = client.get(POOLS_PATH, allow_missing=True)
        except ImagesError as error:
            return f"wait: true needs to read the MachineConfigPools: {error}"
        self.before = record_pool_configurations(listing)
        if listing is None or not self.before:
            return "wait: true needs MachineConfigPools, and this cluster has none; set wait: false"
        blocked = pools_that_block(listing)
        if blocked:
            return (
                f"the rollout could not finish, so waiting for it could not either: {'; '.join(blocked)}. Unpause a "
                f"paused pool ({_UNPAUSE}) or repair the degraded one, or set wait: false to write the secret and let "
                "the pools pick it up later"
            )
        return None

    def _renderer_problem(self, client: KubeApi) -> str | None:
        from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import (  # noqa: PLC0415 - compiled only when needed
            CONTROLLER_CONFIG_PATH,
            MACHINE_CONFIGS_PATH,
            template_failure,
        )

        try:
            controller_config = client.get(CONTROLLER_CONFIG_PATH, allow_missing=True)
        except ForbiddenError:
            controller_config = None
            self.watch_template_controller = False
        except ImagesError as error:
            return f"wait: true needs to read the Machine Config Operator's ControllerConfig: {error}"
        failing = template_failure(controller_config)
        if failing:
            return (
                "the Machine Config Operator renders no pull secret now (ControllerConfig machine-config-controller "
                f"reports TemplateControllerFailing: {failing}), so this change would not reach the nodes; repair "
                "that first, or set wait: false"
            )
        rendered = next((name for name in self.before.values() if name), "")
        if rendered:
            try:
                client.get(f"{MACHINE_CONFIGS_PATH}/{rendered}", allow_missing=True)
            except ForbiddenError as error:
                return (
                    "wait: true reads the rendered MachineConfigs to see that they hold the change, and "
                    f"{error}; grant get on machineconfigs.machineconfiguration.openshift.io or set wait: false"
                )
        return None

    def ensure_possible(self) -> None:
        if not self._read:
            self._read = True
            self._evaluate()
        if self.problem is not None:
            raise InvalidInputError(f"{self.problem}; {NOTHING_WRITTEN}")


def _disruption_warnings(client: KubeApi) -> list[str]:
    """A warning when the cluster's node disruption policy does more than nothing for the pull secret file."""
    from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import (  # noqa: PLC0415 - compiled only when needed
        KUBELET_AUTH_FILE,
        MACHINE_CONFIGURATION_PATH,
        auth_file_disruption,
    )

    actions = auth_file_disruption(_optional_read(client, MACHINE_CONFIGURATION_PATH))
    if actions is None or all(action == "None" for action in actions):
        return []
    return [
        f"the cluster's node disruption policy applies {', '.join(actions)} when {KUBELET_AUTH_FILE} changes "
        "(MachineConfiguration cluster, status.nodeDisruptionPolicyStatus): every node goes through it as the pools "
        "roll this change out"
    ]


def rollout_target(plan: DocumentPlan) -> RolloutTarget:
    """What every rendered config must hold once this change is in it: the entries written, and no removed key."""
    from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import RolloutTarget  # noqa: PLC0415 - compiled only when needed

    auths = plan.after.get("auths") or {}
    written = {key: auths[key] for key in (*plan.added, *plan.updated) if key in auths}
    return RolloutTarget(entries=written, removed=tuple(plan.removed))


def _written_entry_warnings(plan: DocumentPlan) -> list[str]:
    """Warnings about the entries this task writes (not about entries others put there)."""
    auths = plan.after.get("auths") or {}
    written = {key: auths[key] for key in (*plan.added, *plan.updated) if key in auths}
    return [*key_reading_warnings(written), *document_warnings({"auths": written})]


class _Backup:
    """The backup file of a run: written just before each write is sent, over the same file after a conflict."""

    def __init__(self, request: GlobalPullSecretRequest) -> None:
        self._request = request
        self.path: str | None = None

    def save(self, planned: SecretWrite, _current: dict[str, Any] | None) -> None:
        if self._request.backup:
            self.path = write_backup(
                self._request.backup_dir, where=self._request.where, content=planned.stored, path=self.path
            )


def apply_global_pull_secret(
    client: KubeApi,
    request: GlobalPullSecretRequest,
    run: RunContext,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Run the module's request. The request's own secrets were hidden when it was built; every secret value met
    in the cluster goes to ``run.hide`` before anything could print it."""
    entries = request.credentials.entries

    result: dict[str, Any] = {}
    checks = None
    if request.validate_credentials and entries:
        # the registry check (its HTTP, challenges and proxies) is compiled only for a task that asks for it
        from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import check_all  # noqa: PLC0415
        from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_flow import (  # noqa: PLC0415
            CredentialChecks,
        )

        checks = CredentialChecks(check=check_all, tls=request.registry_tls)
    # cloud.openshift.com carries the Telemetry token, not registry credentials: a v2 handshake cannot check it.
    checked_entries = {key: entry for key, entry in entries.items() if key != TELEMETRY_KEY}

    preconditions = _WritePreconditions(client, request)

    def ensure_possible(plan: DocumentPlan) -> None:
        # the credentials this plan writes, before the cluster's preconditions are read
        if checks is not None:
            checks.ensure_checked(entries_written(checked_entries, plan.before, plan.after))
        preconditions.ensure_possible()

    change = DocumentChange(
        entries=entries,
        remove=request.remove,
        replace=request.replace,
        allow_telemetry_change=request.allow_telemetry_change,
    )
    backup = _Backup(request)
    outcome = read_modify_write(
        client,
        request.path,
        functools.partial(plan_secret_write, where=request.where, change=change, ensure_possible=ensure_possible),
        check_mode=run.check_mode,
        attempts=WRITE_ATTEMPTS,
        before_write=backup.save,
    )
    if outcome.plan is None:  # the plan function always returns one; for the type checker
        raise AssertionError("read_modify_write returned no plan")
    run.hide(outcome.plan.secret_values)
    plan = outcome.plan.document
    check_warnings: list[str] = []
    if checks is not None:
        result["credential_checks"], check_warnings = checks.report()
    warnings = [*check_warnings, *plan.warnings, *_written_entry_warnings(plan)]
    if plan.changed:
        warnings += _disruption_warnings(client)

    result.update(
        {
            "changed": plan.changed,
            "registries": registries_result(plan.after),
            "added": plan.added,
            "updated": plan.updated,
            "removed": plan.removed,
            "backup_file": backup.path,
            "rollout": {},
        }
    )
    if run.want_diff:
        result["diff"] = redacted_diff(plan, where=request.where)

    if plan.changed and request.wait and not run.check_mode:
        # the MachineConfig reading and the wait are compiled only for a run that wrote
        from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import (  # noqa: PLC0415
            RolloutError,
            wait_for_rollout,
        )

        try:
            rolled = wait_for_rollout(
                client,
                preconditions.before,
                rollout_target(plan),
                timeout=request.wait_timeout,
                interval=POLL_INTERVAL,
                watch_template_controller=preconditions.watch_template_controller,
                clock=clock,
                sleep=sleep,
            )
        except RolloutError as error:
            result["rollout"] = {name: pool.as_result() for name, pool in error.pools.items()}
            restore = (
                f" To go back to the previous document: oc set data secret/{request.name} -n {request.namespace} "
                f"--from-file=.dockerconfigjson={backup.path}"
                if backup.path
                else ""
            )
            raise PartialChangeError(
                f"the secret {request.where} was updated, but the MachineConfigPools did not finish rolling it "
                f"out: {error}.{restore}",
                result=result,
            ) from None
        result["rollout"] = {name: pool.as_result() for name, pool in rolled.items()}
    return Outcome(result, warnings)
