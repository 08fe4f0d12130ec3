# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reads behind ``image_pull_access_info``: the service account, its pull secrets, the global pull secret, the
image stream, access reviews, RoleBindings and (on request) the registry. Only reads and reviews, never a write;
every decision is in ``diagnose.py``.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ForbiddenError,
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info import diagnose as dx
from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info.request import (
    PullAccessRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    normalize_image,
    validate_digest,
    validate_stream_name,
    validate_tag_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    cluster_role_binding_path,
    cluster_role_path,
    image_stream_path,
    role_binding_path,
    role_path,
    secret_path,
    service_account_path,
    validate_namespace_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import Outcome, RunContext
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac import authorization as rbac
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.reviews import PullAccessReviewer
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import secret_data_values

IMAGE_CONFIG_PATH = "/apis/config.openshift.io/v1/images/cluster"


def parse_image_stream(value: str, *, default_namespace: str) -> dx.StreamRef:
    """``[project/]stream[:tag|@digest]``; the tag defaults to ``latest``."""
    path, at, digest = value.partition("@")
    path, colon, tag = path.partition(":")
    namespace, slash, name = path.rpartition("/")
    namespace = namespace if slash else default_namespace
    if "/" in namespace:
        raise InvalidInputError(f'invalid image stream "{value}": use [project/]stream[:tag] with at most one "/"')
    validate_namespace_name(namespace, what=f"the project of image stream {value!r}")
    validate_stream_name(name, namespace=namespace)
    if at:
        validate_digest(digest)
        return dx.StreamRef(namespace, name, None, digest)
    tag = tag if colon and tag else "latest"
    validate_tag_name(tag)
    return dx.StreamRef(namespace, name, tag, None)


def _get(client: KubeApi, path: str) -> tuple[dict | None, bool]:
    """(object or None when missing, forbidden)."""
    try:
        return client.get(path, allow_missing=True), False
    except ForbiddenError:
        return None, True


def _read_secret(client: KubeApi, namespace: str, name: str, source: str, run: RunContext) -> dx.SecretReading:
    secret, forbidden = _get(client, secret_path(namespace, name))
    if secret is not None:
        run.hide(secret_data_values(secret))
    return dx.SecretReading(namespace, name, source, secret, forbidden)


def _internal_hosts(client: KubeApi) -> tuple[str, list[str]]:
    """The integrated registry's hostname for new pull specs, and every name it answers to."""
    hosts = list(dx.DEFAULT_INTERNAL_REGISTRY_HOSTS)
    config, _forbidden = _get(client, IMAGE_CONFIG_PATH)
    status = (config or {}).get("status") or {}
    configured = status.get("internalRegistryHostname")
    for host in [configured, *(status.get("externalRegistryHostnames") or [])]:
        if isinstance(host, str) and host and host not in hosts:
            hosts.append(host)
    return (configured if isinstance(configured, str) and configured else hosts[0]), hosts


def _stream_image(client: KubeApi, stream: dx.StreamRef, host: str) -> tuple[str, bool | None]:
    """The pull spec of an image stream's image in the integrated registry, and whether the stream exists."""
    found, forbidden = _get(client, image_stream_path(stream.namespace, stream.name))
    repository = ((found or {}).get("status") or {}).get("dockerImageRepository")
    if not isinstance(repository, str) or not repository:
        repository = f"{host}/{stream.namespace}/{stream.name}"
    reference = f"@{stream.digest}" if stream.digest else f":{stream.tag}"
    return repository + reference, None if forbidden else found is not None


def _review(client: KubeApi, subject: rbac.Subject, namespace: str) -> tuple[bool | None, str]:
    try:
        return PullAccessReviewer(client, namespace).review(subject)
    except ForbiddenError:
        return None, (
            f"creating subjectaccessreviews and localsubjectaccessreviews in {namespace} is forbidden for this user"
        )


def _stream_access(client: KubeApi, subject: rbac.Subject, namespace: str) -> dx.StreamAccess:
    allowed, reason = _review(client, subject, namespace)
    try:
        bindings = list((client.get(role_binding_path(namespace)) or {}).get("items") or [])
    except ForbiddenError:
        return dx.StreamAccess(allowed, reason, None)
    for binding in bindings:
        binding.setdefault("metadata", {}).setdefault("namespace", namespace)
    cluster_read = True
    try:
        bindings += list((client.get(cluster_role_binding_path()) or {}).get("items") or [])
    except ForbiddenError:
        cluster_read = False
    rules: dict[str, Any] = {}
    for binding in rbac.bindings_reaching(bindings, subject):
        key = rbac.role_key(binding)
        if key in rules:
            continue
        kind, _slash, rest = key.partition("/")
        if kind == "Role":
            role_namespace, _slash, role_name = rest.partition("/")
            path = role_path(role_namespace, role_name)
        else:
            path = cluster_role_path(rest)
        role, _forbidden = _get(client, path)
        rules[key] = None if role is None else list(role.get("rules") or [])
    granted = rbac.granting_bindings(bindings, subject, rules)
    return dx.StreamAccess(allowed, reason, tuple(granted), cluster_read)


def _check(candidate: dx.Candidate, image_name: str, request: PullAccessRequest) -> dx.CheckAnswer:
    # Imported only when asked for: most runs check nothing.
    from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import (  # noqa: PLC0415
        check_registry_credentials,
    )

    # Ask the image's own registry for a pull scope of its repository, whatever key matched it (a wildcard or a
    # registry-wide key names no repository); an http:// key keeps plain HTTP.
    scheme = "http://" if candidate.key.startswith("http://") else ""
    answer = check_registry_credentials(
        f"{scheme}{image_name}",
        candidate.entry,
        ca_data=request.registry_tls.ca_data,
        validate_certs=request.registry_tls.validate_certs,
    )
    return dx.CheckAnswer(answer.outcome, answer.ok and answer.outcome == "accepted", answer.detail)


def diagnose_image_pull_access(client: KubeApi, request: PullAccessRequest, run: RunContext) -> Outcome:
    """The core of ``image_pull_access_info``: read, then :func:`diagnose.diagnose`. Never writes."""
    namespace = request.namespace or client.default_namespace
    pod_spec = dx.pod_spec_of(request.pod) if request.pod is not None else {}
    sa_name = dx.pod_service_account(pod_spec, request.service_account)
    account, account_forbidden = _get(client, service_account_path(namespace, sa_name))
    names, source = dx.pull_secret_names(
        dx.pod_pull_secret_names(pod_spec), account, account_readable=not account_forbidden
    )
    secrets = [dx.evaluate_secret(_read_secret(client, namespace, name, source, run)) for name in names]
    global_secret = dx.evaluate_secret(_read_secret(client, *dx.GLOBAL_PULL_SECRET, dx.NODE, run))

    host, hosts = _internal_hosts(client)
    stream: dx.StreamRef | None = None
    stream_exists: bool | None = None
    if request.image_stream:
        stream = parse_image_stream(request.image_stream, default_namespace=namespace)
        image, stream_exists = _stream_image(client, stream, host)
    else:
        image = request.image or ""
        stream = dx.internal_stream(normalize_image(image), hosts)
    normalized = normalize_image(image)

    candidates = dx.kubelet_candidates(secrets, global_secret, image)
    checks: dict[int, dx.CheckAnswer] = {}
    if request.check_credentials:
        checks = {i: _check(candidate, normalized.name, request) for i, candidate in enumerate(candidates)}
    access = None
    if stream is not None:
        subject = rbac.Subject(rbac.SERVICE_ACCOUNT, sa_name, namespace)
        access = _stream_access(client, subject, stream.namespace)
    observations = dx.Observations(
        image=image,
        namespace=namespace,
        service_account=sa_name,
        service_account_exists=None if account_forbidden else account is not None,
        pull_secrets_from=source,
        secrets=secrets,
        global_secret=global_secret,
        checks=checks,
        stream=stream,
        stream_exists=stream_exists,
        stream_access=access,
    )
    return Outcome(dx.diagnose(observations, candidates))
