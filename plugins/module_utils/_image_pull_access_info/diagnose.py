# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a pod can or cannot pull an image, as pure functions from what was read (the pod or service account, its pull
secrets, the global pull secret, access reviews, registry answers) to the report of ``image_pull_access_info``.

Follows the kubelet (§3.4: one keyring from the pod's pull secrets, then the node's), the ServiceAccount admission
plugin (§3.5), containers/image (§7, CRI-O's fallback), image stream pull rights (§5.4) and the defaulter (§9).
Nothing here holds or returns a secret: results carry keys, user names and credential fingerprints only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._images.pull_policy import default_pull_policy
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    NormalizedImage,
    normalize_image,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import load_auth_document
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_lookup import (
    containers_image_lookup,
    key_reading_warnings,
    kubelet_keyring_lookup,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    PULL_SECRET_DATA_KEYS,
    read_secret_document,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import (
    credential_fingerprint,
    entry_username,
)

GLOBAL_PULL_SECRET = ("openshift-config", "pull-secret")
# The integrated registry's service names; the cluster's configured hostname is added when it can be read.
DEFAULT_INTERNAL_REGISTRY_HOSTS = (
    "image-registry.openshift-image-registry.svc:5000",
    "image-registry.openshift-image-registry.svc.cluster.local:5000",
)

# Status of one pull secret, as the kubelet meets it.
OK = "ok"
MISSING = "missing"  # the kubelet pulls without it; it warns FailedToRetrieveImagePullSecret if that pull fails
FORBIDDEN = "forbidden"  # this user may not read it; what it holds is unknown
WRONG_TYPE = "wrong_type"  # the kubelet ignores secrets of other types
UNPARSABLE = "unparsable"  # the keyring build fails: every pull of the pod fails

POD = "pod"
SERVICE_ACCOUNT = "service_account"
NODE = "node"
NONE = "none"
UNKNOWN = "unknown"

_SECRET_FIX = "openshift_ops.images.pull_secret"  # noqa: S105 (a module name)
_LINK_FIX = "openshift_ops.images.secret_link with purpose: pull"


@dataclass(frozen=True)
class Problem:
    problem: str
    fix: str

    def as_result(self) -> dict[str, str]:
        return {"problem": self.problem, "fix": self.fix}


@dataclass(frozen=True)
class SecretReading:
    """One pull secret as read: the Secret object, None when it does not exist, or ``forbidden``."""

    namespace: str
    name: str
    source: str  # POD, SERVICE_ACCOUNT or NODE
    secret: Mapping[str, Any] | None = None
    forbidden: bool = False

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class SecretEvaluation:
    """A pull secret as the kubelet reads it: ``status`` and, when OK, the auth document it holds."""

    reading: SecretReading
    status: str
    secret_type: str | None = None
    document: Mapping[str, Any] | None = None
    detail: str = ""

    def as_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "name": self.reading.name,
            "namespace": self.reading.namespace,
            "source": self.reading.source,
            "status": self.status,
            "type": self.secret_type,
            "keys": list((self.document or {}).get("auths") or {}),
        }
        if self.detail:
            result["detail"] = self.detail
        return result


@dataclass(frozen=True)
class Candidate:
    """One credential the kubelet would try, in order. ``entry`` stays inside: it holds the secret."""

    reading: SecretReading
    key: str
    entry: Mapping[str, Any] = field(repr=False)

    def as_result(self) -> dict[str, Any]:
        return {
            "secret": self.reading.where,
            "source": self.reading.source,
            "key": self.key,
            "username": entry_username(self.entry),
            "fingerprint": credential_fingerprint(self.entry),
        }


@dataclass(frozen=True)
class CheckAnswer:
    """What the registry said of one candidate (``_registry/check.py``'s outcome and words)."""

    outcome: str
    accepted: bool
    detail: str

    def as_result(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "accepted": self.accepted, "detail": self.detail}


@dataclass(frozen=True)
class StreamRef:
    """An image stream in the integrated registry; ``tag`` or ``digest`` names the image."""

    namespace: str
    name: str
    tag: str | None = None
    digest: str | None = None

    def as_result(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "name": self.name, "tag": self.tag, "digest": self.digest}


@dataclass(frozen=True)
class StreamAccess:
    """Whether the service account may pull from the stream's project, and which bindings say so.

    ``allowed`` None: the access review could not be made; ``bindings`` None: the bindings could not be listed."""

    allowed: bool | None
    reason: str
    bindings: tuple[str, ...] | None = None
    cluster_bindings_read: bool = True


@dataclass(frozen=True)
class Observations:
    """Everything read for one diagnosis."""

    image: str
    namespace: str
    service_account: str
    service_account_exists: bool | None  # None: could not be read
    pull_secrets_from: str  # POD, SERVICE_ACCOUNT, NONE or UNKNOWN (the service account could not be read)
    secrets: Sequence[SecretEvaluation]
    global_secret: SecretEvaluation
    checks: Mapping[int, CheckAnswer] = field(default_factory=dict)  # by position in the candidate list
    stream: StreamRef | None = None
    stream_exists: bool | None = None  # for a stream named by image_stream; None: not read
    stream_access: StreamAccess | None = None


# ---------------------------------------------------------------------------------------------------------------
# The pod, its service account and its pull secrets


def pod_spec_of(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of a Pod object or of a bare spec."""
    spec = pod.get("spec")
    return spec if isinstance(spec, Mapping) else pod


def _names(entries: Any, where: str) -> list[str]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InvalidInputError(f"{where} must be a list of {{name: SECRET}}, not {type(entries).__name__}")
    names = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if name is not None and not isinstance(name, str):
            raise InvalidInputError(f"{where} entries must be {{name: SECRET}} with a string name, got {entry!r}")
        if name:  # the kubelet skips entries with an empty name
            names.append(name)
    return names


def pod_pull_secret_names(pod_spec: Mapping[str, Any]) -> list[str]:
    return _names(pod_spec.get("imagePullSecrets"), "pod imagePullSecrets")


def pod_service_account(pod_spec: Mapping[str, Any], default: str) -> str:
    """``serviceAccountName`` (or the deprecated ``serviceAccount``) of the pod, else ``default``."""
    name = pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount")
    return name if isinstance(name, str) and name else default


def pull_secret_names(
    pod_names: Sequence[str], service_account: Mapping[str, Any] | None, *, account_readable: bool = True
) -> tuple[list[str], str]:
    """The secrets the pod's pulls use and where they come from: the pod's own list, or, when it has none, the
    service account's ``imagePullSecrets`` (admission copies them into a pod created without a list, §3.5);
    :data:`UNKNOWN` when that list is needed but the service account could not be read."""
    if pod_names:
        return list(pod_names), POD
    if not account_readable:
        return [], UNKNOWN
    names = _names((service_account or {}).get("imagePullSecrets"), "service account imagePullSecrets")
    return (names, SERVICE_ACCOUNT) if names else ([], NONE)


def evaluate_secret(reading: SecretReading) -> SecretEvaluation:
    """How the kubelet takes one pull secret."""
    if reading.forbidden:
        return SecretEvaluation(reading, FORBIDDEN, detail="reading it is forbidden for this user")
    if reading.secret is None:
        return SecretEvaluation(reading, MISSING)
    secret_type = reading.secret.get("type")
    shown_type = secret_type if isinstance(secret_type, str) else None
    if secret_type not in PULL_SECRET_DATA_KEYS:
        return SecretEvaluation(reading, WRONG_TYPE, shown_type)
    document = read_secret_document(reading.secret)
    if document is None:
        return SecretEvaluation(
            reading,
            UNPARSABLE,
            shown_type,
            detail=f"its {PULL_SECRET_DATA_KEYS[secret_type]} is missing or is not a base64-encoded JSON object",
        )
    try:
        checked = load_auth_document(document, source=f"secret {reading.where}")
    except InvalidInputError as error:
        return SecretEvaluation(reading, UNPARSABLE, shown_type, detail=str(error))
    return SecretEvaluation(reading, OK, shown_type, checked)


# ---------------------------------------------------------------------------------------------------------------
# Credentials in the kubelet's order


def kubelet_candidates(pod_secrets: Sequence[SecretEvaluation], node: SecretEvaluation, image: str) -> list[Candidate]:
    """The credentials the kubelet tries in turn: the pod's keyring (all its readable pull secrets as one), then the
    node's (the global pull secret, which the MCO writes to ``/var/lib/kubelet/config.json``)."""
    usable = [evaluation for evaluation in pod_secrets if evaluation.status == OK and evaluation.document is not None]
    found = [
        _candidate(usable[position], key)
        for position, key in kubelet_keyring_lookup([e.document or {} for e in usable], image)
    ]
    if node.status == OK and node.document is not None:
        found += [_candidate(node, key) for _position, key in kubelet_keyring_lookup([node.document], image)]
    return found


def _candidate(evaluation: SecretEvaluation, key: str) -> Candidate:
    entry = ((evaluation.document or {}).get("auths") or {}).get(key)
    return Candidate(evaluation.reading, key, entry if isinstance(entry, Mapping) else {})


def containers_image_view(node: SecretEvaluation, image: str) -> dict[str, Any] | None:
    """What containers/image (CRI-O's global auth file) picks from the global pull secret, None when unread."""
    if node.status != OK or node.document is None:
        return None
    lookup = containers_image_lookup(node.document, image)
    return {"key": lookup.key, "helper": lookup.helper, "usable": lookup.usable}


# ---------------------------------------------------------------------------------------------------------------
# The integrated registry (which bindings grant pulls from a stream: _rbac/authorization.py)


def internal_stream(image: NormalizedImage, internal_hosts: Iterable[str]) -> StreamRef | None:
    """The image stream an image of the integrated registry names (``<host>/<project>/<stream>``), else None."""
    if image.registry not in set(internal_hosts):
        return None
    parts = image.repository.split("/")
    if len(parts) != 2:
        return None
    return StreamRef(parts[0], parts[1], image.tag, image.digest)


# ---------------------------------------------------------------------------------------------------------------
# The report


def _secret_problem(evaluation: SecretEvaluation, *, sa_ref: str) -> Problem | None:
    reading = evaluation.reading
    listed = "the pod's imagePullSecrets" if reading.source == POD else f"the imagePullSecrets of {sa_ref}"
    if evaluation.status == MISSING:
        # kubelet.go SyncPod: the warning event is given only when a pull of the pod then fails.
        return Problem(
            f"pull secret {reading.where}, listed in {listed}, does not exist; the kubelet pulls without it, and "
            "warns FailedToRetrieveImagePullSecret when that pull fails",
            f"create it with {_SECRET_FIX} (name: {reading.name}, namespace: {reading.namespace}), or take it out of "
            f"the list with {_LINK_FIX} and state: absent",
        )
    if evaluation.status == WRONG_TYPE:
        return Problem(
            f"secret {reading.where}, listed in {listed}, has type {evaluation.secret_type}; the kubelet reads only "
            "kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secrets and ignores it",
            f"write it as a pull secret with {_SECRET_FIX} (name: {reading.name}; it changes the type), or list "
            f"another secret with {_LINK_FIX}",
        )
    if evaluation.status == UNPARSABLE:
        return Problem(
            f"pull secret {reading.where}, listed in {listed}, cannot be parsed ({evaluation.detail}); the kubelet "
            "then fails every pull of the pod, not only this image",
            f"write it again with {_SECRET_FIX} (name: {reading.name}, namespace: {reading.namespace})",
        )
    return None


def _no_credential_problem(observations: Observations, registry: str) -> Problem:
    sa_ref = f"{observations.namespace}:{observations.service_account}"
    node = observations.global_secret
    node_words = {
        OK: "nor does the global pull secret openshift-config/pull-secret",
        FORBIDDEN: "and the global pull secret openshift-config/pull-secret could not be read (forbidden), so "
        "whether the nodes hold one is unknown",
        MISSING: "and the global pull secret openshift-config/pull-secret does not exist",
    }.get(node.status, f"and the global pull secret openshift-config/pull-secret is {node.status}")
    if observations.pull_secrets_from == POD:
        fix = (
            f"make a pull secret for {registry} with {_SECRET_FIX} in {observations.namespace} and add it to the "
            "pod's own imagePullSecrets (a pod that lists its own secrets does not get the service account's)"
        )
    else:
        fix = (
            f"make a pull secret for {registry} with {_SECRET_FIX} (link_service_accounts: "
            f"[{observations.service_account}]), or link an existing one with {_LINK_FIX} "
            f"(service_account: {observations.service_account}); only pods created afterwards get it; the "
            "registry_onboarding role does this for several projects, and openshift_ops.images.global_pull_secret "
            "for every node"
        )
    source = {
        POD: "no pull secret of the pod",
        SERVICE_ACCOUNT: f"no pull secret of {sa_ref}",
    }.get(observations.pull_secrets_from, f"the pod lists no pull secrets and neither does {sa_ref}, so nothing")
    return Problem(
        f"{source} has a credential for {registry}, {node_words}; the pull is anonymous and fails unless the "
        "registry allows anonymous pulls",
        fix,
    )


def _rejected_problem(rejected: Sequence[Candidate], repository: str) -> Problem:
    names = ", ".join(f"{c.reading.where} key {c.key}" for c in rejected)
    node = any(candidate.reading.source == NODE for candidate in rejected)
    fix = f"update the credentials with {_SECRET_FIX} (validate_credentials: true checks them first)"
    if node:
        fix += "; for the global pull secret use openshift_ops.images.global_pull_secret"
    return Problem(f"the registry rejected every credential that matches {repository}: {names}", fix)


def _account_and_secret_problems(observations: Observations) -> tuple[list[Problem], list[str]]:
    """Problems of the service account and the pull secrets. A missing secret stops nothing when the registry
    accepted another credential: then it is a note (the kubelet skips it without an event)."""
    sa_ref = f"{observations.namespace}:{observations.service_account}"
    pull_works = any(answer.accepted for answer in observations.checks.values())
    problems: list[Problem] = []
    notes: list[str] = []
    if observations.service_account_exists is False:
        problems.append(
            Problem(
                f"service account {observations.namespace}/{observations.service_account} does not exist; pods "
                "naming it are refused at admission",
                "create the service account; openshift_ops.images.secret_link with wait_for_service_account: true "
                "waits until OpenShift has given it its registry pull secret",
            )
        )
    for evaluation in observations.secrets:
        problem = _secret_problem(evaluation, sa_ref=sa_ref)
        if problem and evaluation.status == MISSING and pull_works:
            notes.append(
                f"pull secret {evaluation.reading.where} does not exist; the kubelet skips it and, as another "
                "credential is accepted, gives no event"
            )
        elif problem:
            problems.append(problem)
        elif evaluation.status == FORBIDDEN:
            notes.append(f"pull secret {evaluation.reading.where} could not be read (forbidden); its keys are unknown")
    node = observations.global_secret
    if node.status == FORBIDDEN:
        notes.append(
            "the global pull secret openshift-config/pull-secret could not be read (forbidden), so the nodes' "
            "credentials are unknown"
        )
    elif node.status in (UNPARSABLE, WRONG_TYPE):
        problems.append(
            Problem(
                f"the global pull secret openshift-config/pull-secret is {node.status} "
                f"({node.detail or node.secret_type}); the nodes cannot use it",
                "write it with openshift_ops.images.global_pull_secret",
            )
        )
    return problems, notes


def chosen_credential(
    observations: Observations, candidates: Sequence[Candidate]
) -> tuple[dict[str, Any] | None, str | None, list[str]]:
    """The credential used first, who picks it (``kubelet``, or ``containers/image`` when the kubelet has none and
    CRI-O reads the global auth file itself, §7), and notes where the two rule sets disagree."""
    image = normalize_image(observations.image)
    crio = containers_image_view(observations.global_secret, observations.image)
    notes: list[str] = []
    if candidates:
        node_first = next((c for c in candidates if c.reading.source == NODE), None)
        if crio and node_first and crio["key"] != node_first.key:
            notes.append(
                f"containers/image (podman, skopeo, CRI-O on its own) would take key {crio['key']!r} of the global "
                f"pull secret, where the kubelet takes {node_first.key!r}"
            )
        return candidates[0].as_result(), "kubelet", notes
    if crio and crio["key"] and crio["usable"]:
        node = observations.global_secret
        entry = ((node.document or {}).get("auths") or {}).get(crio["key"]) or {}
        notes.append(
            f"the kubelet matches no key for {image.name}, but CRI-O (containers/image rules) takes key "
            f"{crio['key']!r} of the global pull secret"
        )
        return Candidate(node.reading, crio["key"], entry).as_result(), "containers/image", notes
    return None, None, notes


def _check_findings(
    observations: Observations, candidates: Sequence[Candidate]
) -> tuple[list[dict[str, Any]], list[Problem], list[str]]:
    results = []
    for position, candidate in enumerate(candidates):
        result = candidate.as_result()
        answer = observations.checks.get(position)
        if answer is not None:
            result["check"] = answer.as_result()
        results.append(result)
    checked = [(c, observations.checks[i]) for i, c in enumerate(candidates) if i in observations.checks]
    if not checked:
        return results, [], []
    accepted = [index for index, (_c, answer) in enumerate(checked) if answer.accepted]
    if not accepted:
        rejected = [c for c, answer in checked if answer.outcome == "rejected"]
        unknown = [f"{c.reading.where} key {c.key}: {answer.detail}" for c, answer in checked if c not in rejected]
        problems = [_rejected_problem(rejected, normalize_image(observations.image).name)] if rejected else []
        return results, problems, unknown
    if accepted[0] > 0:
        used = checked[accepted[0]][0]
        return (
            results,
            [],
            [
                f"the first {accepted[0]} credential(s) were not accepted; the kubelet tries each in turn, so the "
                f"pull uses {used.reading.where} key {used.key}"
            ],
        )
    return results, [], []


def _stream_findings(observations: Observations) -> tuple[dict[str, Any] | None, list[Problem], list[str]]:
    stream, access = observations.stream, observations.stream_access
    if stream is None:
        return None, [], []
    sa_ref = f"{observations.namespace}:{observations.service_account}"
    result = stream.as_result()
    problems: list[Problem] = []
    notes: list[str] = []
    if observations.stream_exists is False:
        problems.append(
            Problem(
                f"image stream {stream.namespace}/{stream.name} does not exist",
                f"create it and its tag with openshift_ops.images.image_tag (namespace: {stream.namespace})",
            )
        )
    if access is None:
        return result, problems, notes
    result |= {
        "allowed": access.allowed,
        "reason": access.reason,
        "granted_by": list(access.bindings) if access.bindings is not None else None,
    }
    if access.allowed is False:
        problems.append(
            Problem(
                f"service account {sa_ref} may not pull from project {stream.namespace} (get imagestreams/layers "
                f"is denied: {access.reason})",
                f"openshift_ops.images.image_puller_binding (namespace: {stream.namespace}, service_accounts: "
                f"[{sa_ref}], or from_namespaces: [{observations.namespace}]); the cross_project_access role does "
                "this for several projects",
            )
        )
    elif access.allowed is None:
        notes.append(f"whether {sa_ref} may pull from {stream.namespace} is unknown: {access.reason}")
    if access.bindings is None:
        notes.append(f"the RoleBindings of project {stream.namespace} could not be listed")
    elif not access.cluster_bindings_read:
        notes.append("ClusterRoleBindings could not be listed; granted_by names RoleBindings only")
    return result, problems, notes


def diagnose(observations: Observations, candidates: Sequence[Candidate]) -> dict[str, Any]:
    """The module's result: what the kubelet would use, what the registry and the authorizer say, the default
    pull policy, ``problems`` (each with its fix) and ``notes`` for what could not be known."""
    image = normalize_image(observations.image)
    problems, notes = _account_and_secret_problems(observations)
    chosen, chosen_by, choice_notes = chosen_credential(observations, candidates)
    notes += choice_notes
    unknown = [e.reading.where for e in observations.secrets if e.status == FORBIDDEN]
    if observations.pull_secrets_from == UNKNOWN:
        notes.append(
            f"service account {observations.namespace}/{observations.service_account} could not be read "
            "(forbidden), so the pull secrets a pod created without its own list gets are unknown"
        )
    if chosen is None and (unknown or observations.pull_secrets_from == UNKNOWN):
        notes.append(f"no readable pull secret has a credential for {image.registry}; the unreadable ones may")
    elif chosen is None:
        problems.append(_no_credential_problem(observations, image.registry))
    notes += key_reading_warnings(dict.fromkeys(c.key for c in candidates))
    candidate_results, check_problems, check_notes = _check_findings(observations, candidates)
    stream_result, stream_problems, stream_notes = _stream_findings(observations)
    return {
        "changed": False,
        "image": {
            "given": observations.image,
            "name": image.name,
            "registry": image.registry,
            "repository": image.repository,
            "tag": image.tag,
            "digest": image.digest,
        },
        "default_pull_policy": default_pull_policy(observations.image),
        "service_account": {
            "namespace": observations.namespace,
            "name": observations.service_account,
            "exists": observations.service_account_exists,
        },
        "pull_secrets_from": observations.pull_secrets_from,
        "pull_secrets": [evaluation.as_result() for evaluation in observations.secrets],
        "global_pull_secret": {
            "namespace": GLOBAL_PULL_SECRET[0],
            "name": GLOBAL_PULL_SECRET[1],
            "status": observations.global_secret.status,
            "keys": list((observations.global_secret.document or {}).get("auths") or {}),
        },
        "candidates": candidate_results,
        "credential": chosen,
        "chosen_by": chosen_by,
        "containers_image": containers_image_view(observations.global_secret, observations.image),
        "image_stream": stream_result,
        "problems": [problem.as_result() for problem in [*problems, *check_problems, *stream_problems]],
        "notes": [*notes, *check_notes, *stream_notes],
    }
