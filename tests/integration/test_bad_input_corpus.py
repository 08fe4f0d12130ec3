"""A corpus of malformed inputs for every module and every role's argument spec, run against the sandbox cluster.

Each input must fail the task (a result with ``failed``, never a traceback) with a message that names what is wrong
and what to do about it, must not show a secret value it was given, and must write nothing: the audit log shows no
write by the run. The other ``test_*.py`` files hold their modules' own bad-input tables; the inputs here are others.

Every run uses a kubeconfig that impersonates a user of its own (``CORPUS_USER``, in ``system:masters``), so each
request the run sends carries that name in the audit log, and writes by other tests sharing the sandbox are told
apart from ours. A run that cannot read its kubeconfig cannot authenticate: it could only write as
``system:anonymous``, which is counted too, as is any write in the corpus's own namespace.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

from .sandbox_support import (
    AuditLog,
    AuditMark,
    Kube,
    ModuleCrashError,
    ModuleRunner,
    PlaybookRunner,
    Sandbox,
    seeded_pull_secret_document,
    wait_for_project_setup,
)

CORPUS_USER = f"it-bad-input-corpus-{secrets.token_hex(4)}"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
SECRET_LIMIT = 1024 * 1024  # the API server's limit on a Secret's data


# Long and unusual, so that no message could contain them by chance and Ansible's masking never garbles other text.
PASSWORD = "Corpus-Pa55w0rd-never-shown-7c1e"
AUTH = b64(f"corpus-user:{PASSWORD}")
NO_COLON_TEXT = "corpus-no-colon-Pa55w0rd-never-shown-88d2"
NO_COLON_AUTH = b64(NO_COLON_TEXT)
NOT_BASE64_AUTH = "%%corpus-not-base64-Pa55w0rd-never-shown%%"
OLD_PASSWORD = "Corpus-old-Pa55w0rd-in-the-cluster-41aa"
OLD_AUTH = b64(f"old-user:{OLD_PASSWORD}")
SECRET_VALUES = (PASSWORD, AUTH, NO_COLON_TEXT, NO_COLON_AUTH, NOT_BASE64_AUTH, OLD_PASSWORD, OLD_AUTH)

# Placeholders in a case's params and expected texts, filled in from the corpus workspace.
NS, FILES, MANAGED, KUBECONFIG = "@NS@", "@FILES@", "@MANAGED@", "@KUBECONFIG@"


def registry(server: str = "registry.example.com", **fields: Any) -> dict[str, Any]:
    return {"server": server, "username": "corpus-user", "password": PASSWORD} | fields


def large_document(size: int, *, last: dict[str, str] | None = None) -> dict[str, Any]:
    """An auth document of at least ``size`` bytes of JSON, in entries of about 4 KiB (a long e-mail field);
    ``last`` is its final entry (zz-last.example.com)."""
    entry = {"auth": AUTH, "email": "corpus-" + "x" * 4096 + "@example.com"}
    count = size // len(json.dumps({"registry-000000.example.com": entry})) + 1
    auths: dict[str, Any] = {f"registry-{index:06d}.example.com": entry for index in range(count)}
    if last is not None:
        auths["zz-last.example.com"] = last
    return {"auths": auths}


@dataclass(frozen=True)
class Case:
    """One malformed input: the module (or role) it goes to, its options (or role variables), and two texts the
    message must hold: what is wrong and what to do."""

    id: str
    target: str
    params: Mapping[str, Any]
    wrong: str
    fix: str
    kubeconfig: str = KUBECONFIG  # the impersonating kubeconfig unless the kubeconfig is the bad input
    extra_secrets: tuple[str, ...] = field(default=())

    @property
    def is_role(self) -> bool:
        return self.target.startswith("role:")


def ps(case_id: str, params: Mapping[str, Any], wrong: str, fix: str, **kwargs: Any) -> Case:
    """A pull_secret case in the corpus namespace, for the secret ``corpus`` unless ``params`` names another."""
    return Case(
        f"pull_secret-{case_id}", "pull_secret", {"name": "corpus", "namespace": NS, **params}, wrong, fix, **kwargs
    )


def gps(case_id: str, params: Mapping[str, Any], wrong: str, fix: str, **kwargs: Any) -> Case:
    """A global_pull_secret case, aimed at a copy of the global pull secret in the corpus namespace (a run that
    wrote by mistake would not disturb the tests sharing the sandbox)."""
    target = {"name": "global-copy", "namespace": NS}
    return Case(f"global_pull_secret-{case_id}", "global_pull_secret", {**target, **params}, wrong, fix, **kwargs)


def tag(case_id: str, params: Mapping[str, Any], wrong: str, fix: str, **kwargs: Any) -> Case:
    base = {"source": "ruby:2.0", "dest": ["ruby:corpus"], "namespace": NS}
    return Case(f"image_tag-{case_id}", "image_tag", {**base, **params}, wrong, fix, **kwargs)


def link(case_id: str, params: Mapping[str, Any], wrong: str, fix: str) -> Case:
    base = {"service_account": "default", "secrets": ["company-registry"], "namespace": NS}
    return Case(f"secret_link-{case_id}", "secret_link", {**base, **params}, wrong, fix)


def bind(case_id: str, params: Mapping[str, Any], wrong: str, fix: str) -> Case:
    base = {"namespace": NS, "service_accounts": [f"{NS}:default"]}
    return Case(f"image_puller_binding-{case_id}", "image_puller_binding", {**base, **params}, wrong, fix)


def role(name: str, case_id: str, variables: Mapping[str, Any], wrong: str, fix: str) -> Case:
    return Case(f"role-{name}-{case_id}", f"role:{name}", variables, wrong, fix)


CROSS = {"cross_project_access_image_namespace": NS, "cross_project_access_service_accounts": [f"{NS}:default"]}
PROMOTION = {"image_promotion_source": f"{NS}/ruby:2.0", "image_promotion_targets": [f"{NS}/ruby:corpus"]}
ONBOARDING = {
    "registry_onboarding_server": "registry.example.com",
    "registry_onboarding_username": "corpus-user",
    "registry_onboarding_password": PASSWORD,
    "registry_onboarding_namespaces": [NS],
    "registry_onboarding_validate_credentials": False,
}
TYPE_FIX = "must be one of"
BASE64_FIX = 'it must be base64 of "user:password"'
KEY_FIX = "write only host[:port][/path]"

MODULE_CASES: list[Case] = [
    # --- pull_secret: broken documents
    ps(
        "json-truncated",
        {"auth_content": '{"auths": {"quay.io": {"auth": "' + AUTH + '"}'},
        "auth_content is not valid JSON",
        'such as {"auths"',
    ),
    ps(
        "json-trailing-comma",
        {"auth_content": '{"auths": {"quay.io": {"auth": "' + AUTH + '"},}}'},
        "not valid JSON",
        'such as {"auths"',
    ),
    ps(
        "json-single-quotes",
        {"auth_content": "{'auths': {'quay.io': {'auth': '" + AUTH + "'}}}"},
        "not valid JSON",
        "double quotes",
    ),
    ps("yaml-text", {"auth_content": f"auths:\n  quay.io:\n    auth: {AUTH}\n"}, "looks like YAML", "to_json"),
    ps("json-nan", {"auth_content": '{"auths": {}, "limit": NaN}'}, "NaN is not valid JSON", 'such as {"auths"'),
    ps("json-array", {"auth_content": '["quay.io"]'}, "not array", 'must hold a JSON object such as {"auths"'),
    ps("json-string", {"auth_content": '"' + AUTH + '"'}, "not string", 'must hold a JSON object such as {"auths"'),
    ps("blank-text", {"auth_content": "  \n "}, "auth_content is empty", 'such as {"auths": {}}'),
    ps("byte-order-mark", {"auth_content": '\ufeff{"auths": {}}'}, "byte order mark", "save it as UTF-8 without BOM"),
    ps(
        "duplicate-key",
        {"auth_content": '{"auths": {"quay.io": {"auth": "' + AUTH + '"}, "quay.io": {"auth": "' + AUTH + '"}}}'},
        '"quay.io" appears twice',
        "remove the other",
    ),
    ps(
        "auths-is-list",
        {"auth_content": {"auths": ["quay.io"]}},
        "auths must be an object, not array",
        'layout: {"auths"',
    ),
    ps(
        "auth-is-number",
        {"auth_content": {"auths": {"quay.io": {"auth": 12345}}}},
        'auths["quay.io"].auth must be a string, not integer',
        'layout: {"auths"',
    ),
    ps(
        "legacy-dockercfg",
        {"auth_content": {"quay.io": {"auth": AUTH}}},
        "legacy .dockercfg layout",
        'wrap it as {"auths": <this content>}',
    ),
    ps("content-is-list", {"auth_content": ["quay.io"]}, "not list", "must be JSON text or a mapping"),
    ps("content-is-number", {"auth_content": 42}, "not int", "must be JSON text or a mapping"),
    ps(
        "entry-without-credentials",
        {"auth_content": {"auths": {"quay.io": {"email": "corpus@example.com"}}}},
        "holds no username and password",
        "give auth (base64 of user:password) or username and password",
    ),
    ps(
        "entry-auth-not-base64",
        {"auth_content": {"auths": {"quay.io": {"auth": NOT_BASE64_AUTH}}}},
        "is not standard base64",
        BASE64_FIX,
    ),
    ps(
        "entry-auth-no-colon", {"auth_content": {"auths": {"quay.io": {"auth": NO_COLON_AUTH}}}}, "no colon", BASE64_FIX
    ),
    ps(
        "entry-auth-line-breaks",
        {"auth_content": {"auths": {"quay.io": {"auth": AUTH[:20] + "\n" + AUTH[20:]}}}},
        "line breaks",
        "base64 -w0",
    ),
    ps(
        "entry-key-with-scheme",
        {"auth_content": {"auths": {"ftp://quay.io": {"auth": AUTH}}}},
        "only https:// or http:// may prefix",
        KEY_FIX,
    ),
    # --- pull_secret: registries
    ps(
        "auth-not-base64",
        {"registries": [{"server": "quay.io", "auth": NOT_BASE64_AUTH}]},
        "not standard base64",
        BASE64_FIX,
    ),
    ps(
        "auth-no-colon",
        {"registries": [{"server": "quay.io", "auth": NO_COLON_AUTH}]},
        'does not decode to "user:password"',
        BASE64_FIX,
    ),
    ps(
        "auth-with-username",
        {"registries": [{"server": "quay.io", "auth": AUTH, "username": "corpus-user"}]},
        "mutually exclusive",
        "auth|username",
    ),
    ps(
        "username-without-password",
        {"registries": [{"server": "quay.io", "username": "corpus-user"}]},
        "required together",
        "username, password",
    ),
    ps(
        "no-server",
        {"registries": [{"username": "corpus-user", "password": PASSWORD}]},
        "missing required arguments: server",
        "registries",
    ),
    ps("empty-server", {"registries": [registry("")]}, "must be a non-empty string", "such as quay.io"),
    ps(
        "server-ftp-scheme", {"registries": [registry("ftp://quay.io")]}, "only https:// or http:// may prefix", KEY_FIX
    ),
    ps(
        "server-with-tag",
        {"registries": [registry("quay.io/corpus/app:1.0")]},
        "not a tag",
        "drop the tag: quay.io/corpus/app",
    ),
    ps(
        "server-with-digest",
        {"registries": [registry("quay.io/corpus/app@sha256:" + "a" * 64)]},
        "contains '@'",
        KEY_FIX,
    ),
    ps("server-with-space", {"registries": [registry("quay .io")]}, "contains whitespace", "remove them"),
    ps("server-with-query", {"registries": [registry("quay.io/corpus?tag=1")]}, "contains '?' or '#'", KEY_FIX),
    ps(
        "server-upper-case-path",
        {"registries": [registry("quay.io/Corpus/App")]},
        "upper-case letters in its path",
        "write it as quay.io/corpus/app",
    ),
    ps("server-without-host", {"registries": [registry("https://")]}, "has no registry host", "such as quay.io"),
    ps("server-empty-path-component", {"registries": [registry("quay.io//corpus")]}, "empty path component", KEY_FIX),
    ps(
        "username-with-colon",
        {"registries": [registry(username="corpus:user")]},
        "contains ':'",
        "user name without ':'",
    ),
    ps("empty-password", {"registries": [registry(password="")]}, "is empty", "set the password"),
    ps(
        "same-registry-twice",
        {"registries": [registry("quay.io"), registry("https://quay.io")]},
        "name the same registry",
        "keep one",
    ),
    ps(
        "registries-misspelt-option",
        {"registries": [registry(emial="corpus@example.com")]},
        "registries.emial",
        "Supported parameters include",
    ),
    # --- pull_secret: names, types and combinations -------------------------------------------------------------------
    ps(
        "secret-name-upper-case",
        {"name": "Corpus_Secret", "registries": [registry()]},
        "'Corpus_Secret' is not a valid secret name",
        "lower-case letters",
    ),
    ps(
        "secret-name-too-long",
        {"name": "a" * 254, "registries": [registry()]},
        "is not a valid secret name",
        "at most 253 characters",
    ),
    ps(
        "namespace-invalid",
        {"namespace": "Corpus Project", "registries": [registry()]},
        "'Corpus Project' is not a valid namespace name",
        "lower-case letters",
    ),
    ps(
        "link-service-account-invalid",
        {"registries": [registry()], "link_service_accounts": ["Builder!"]},
        "'Builder!' is not a valid service account name",
        "lower-case letters",
    ),
    ps("type-opaque", {"registries": [registry()], "type": "Opaque"}, "value of type must be one of", DOCKERCONFIGJSON),
    ps(
        "state-unknown",
        {"registries": [registry()], "state": "gone"},
        "value of state must be one of",
        "present, absent",
    ),
    ps(
        "merge-not-boolean",
        {"registries": [registry()], "merge": "perhaps"},
        "'perhaps' is not a valid boolean",
        "Valid booleans include",
    ),
    ps(
        "force-not-boolean",
        {"registries": [registry()], "force": "if-needed"},
        "'if-needed' is not a valid boolean",
        "Valid booleans include",
    ),
    ps(
        "remove-key-with-scheme",
        {"merge": True, "remove_registries": ["ftp://quay.io"]},
        "only https:// or http:// may prefix",
        KEY_FIX,
    ),
    ps(
        "remove-what-is-given",
        {"registries": [registry("quay.io")], "remove_registries": ["https://quay.io"]},
        "both given with credentials and listed in remove_registries",
        "keep one",
    ),
    ps("no-credentials", {}, "no credentials given", "set registries, auth_file or auth_content"),
    ps(
        "validate-credentials-not-boolean",
        {"registries": [registry()], "validate_credentials": "maybe"},
        "'maybe' is not a valid boolean",
        "Valid booleans include",
    ),
    # --- pull_secret: files on the managed host
    ps(
        "auth-file-missing",
        {"auth_file": f"{FILES}/no-such-auth.json"},
        "does not exist on the managed host",
        "must be the path of a readable docker config.json",
    ),
    # Tests run as root, for whom mode 000 blocks no read: a directory and a path through a plain file are the
    # files no user can read.
    ps(
        "auth-file-is-directory",
        {"auth_file": f"{FILES}/auth-dir"},
        "Is a directory",
        "must be the path of a readable docker config.json",
    ),
    ps(
        "auth-file-parent-is-a-file",
        {"auth_file": f"{FILES}/plain-file/auth.json"},
        "Not a directory",
        "must be the path of a readable docker config.json",
    ),
    ps(
        "auth-file-invalid-utf8",
        {"auth_file": f"{FILES}/latin1.json"},
        "is not UTF-8 text",
        "give a docker config.json or podman auth.json",
    ),
    ps("auth-file-yaml", {"auth_file": f"{FILES}/auth.yaml"}, "looks like YAML", "to_json"),
    ps("auth-file-truncated-json", {"auth_file": f"{FILES}/truncated.json"}, "is not valid JSON", 'such as {"auths"'),
    ps("auth-file-empty", {"auth_file": f"{FILES}/empty.json"}, "is empty", 'such as {"auths": {}}'),
    ps(
        "auth-file-credential-helper",
        {"auth_file": f"{FILES}/creds-store.json"},
        "docker credential helper",
        "podman login --authfile",
    ),
    ps(
        "auth-file-several-mb-broken-at-the-end",
        {"auth_file": f"{FILES}/large-broken.json"},
        'auths["zz-last.example.com"].auth is not standard base64',
        BASE64_FIX,
    ),
    ps(
        "auth-content-over-the-secret-limit",
        {"auth_content": large_document(3 * SECRET_LIMIT)},
        "more than the 1,048,576 bytes",
        "Split the registries over several pull secrets",
    ),
    # --- pull_secret: what is in the way in the cluster
    ps(
        "opaque-secret-in-the-way",
        {"name": "opaque-in-the-way", "registries": [registry()]},
        "exists with type Opaque",
        "Set force: true to delete and re-create it, or use another name",
    ),
    ps("immutable-secret", {"name": "immutable-pull", "registries": [registry()]}, "is immutable", "set force: true"),
    ps(
        "merge-into-unreadable-secret",
        {"name": "unreadable-pull", "merge": True, "registries": [registry()]},
        "does not hold a readable",
        "use merge: false",
    ),
    ps(
        "secret-owned-by-another-object",
        {"name": "owned-pull", "registries": [registry()]},
        "is owned by ConfigMap corpus-owner",
        "Use another name",
    ),
    ps(
        "service-account-managed-secret",
        {"name": MANAGED, "type": DOCKERCFG, "registries": [registry()]},
        "is managed by OpenShift",
        "give your credentials a secret of their own",
    ),
    # --- connection
    ps(
        "kubeconfig-missing",
        {"registries": [registry()]},
        "does not exist",
        "fix the kubeconfig option or K8S_AUTH_KUBECONFIG",
        kubeconfig=f"{FILES}/no-such-kubeconfig",
    ),
    ps(
        "kubeconfig-broken-yaml",
        {"registries": [registry()]},
        "is not valid YAML",
        "fix or regenerate it",
        kubeconfig=f"{FILES}/broken-kubeconfig",
    ),
    ps(
        "kubeconfig-no-current-context",
        {"registries": [registry()]},
        "sets no current-context",
        "set the context option",
        kubeconfig=f"{FILES}/no-current-context",
    ),
    ps(
        "context-missing",
        {"registries": [registry()], "context": "no-such-context"},
        "context 'no-such-context'",
        "Fix the name or run 'oc login'",
    ),
    # --- global_pull_secret
    gps("auth-file-yaml", {"auth_file": f"{FILES}/auth.yaml"}, "looks like YAML", "to_json"),
    gps(
        "name-invalid",
        {"name": "Pull_Secret", "remove_registries": ["quay.io"]},
        "'Pull_Secret' is not a valid secret name",
        "lower-case letters",
    ),
    gps(
        "auth-file-invalid-utf8",
        {"auth_file": f"{FILES}/latin1.json"},
        "is not UTF-8 text",
        "give a docker config.json or podman auth.json",
    ),
    gps(
        "auth-file-is-directory",
        {"auth_file": f"{FILES}/auth-dir"},
        "Is a directory",
        "must be the path of a readable docker config.json",
    ),
    gps(
        "auth-content-dockercfg-layout",
        {"auth_content": json.dumps({"quay.io": {"auth": AUTH}})},
        "legacy .dockercfg layout",
        'wrap it as {"auths"',
    ),
    gps(
        "server-with-tag",
        {"registries": [registry("registry.example.com/app:latest")]},
        "not a tag",
        "drop the tag: registry.example.com/app",
    ),
    gps("remove-key-with-space", {"remove_registries": ["quay .io"]}, "contains whitespace", "remove them"),
    gps(
        "remove-telemetry-entry",
        {"remove_registries": ["cloud.openshift.com"]},
        "cloud.openshift.com",
        "allow_telemetry_change: true",
    ),
    gps(
        "replace-without-telemetry-entry",
        {"replace": True, "registries": [registry()]},
        "cloud.openshift.com",
        "allow_telemetry_change: true",
    ),
    gps(
        "absent-with-replace",
        {"state": "absent", "replace": True, "remove_registries": ["quay.io"]},
        "not used with it",
        "registries[].server and remove_registries",
    ),
    gps(
        "absent-without-keys",
        {"state": "absent"},
        "needs the registry keys to remove",
        "registries[].server or remove_registries",
    ),
    gps("wait-timeout-zero", {"registries": [registry()], "wait_timeout": 0}, "got 0", "a positive number of seconds"),
    gps(
        "wait-not-boolean",
        {"registries": [registry()], "wait": "later"},
        "'later' is not a valid boolean",
        "Valid booleans include",
    ),
    gps(
        "secret-of-type-dockercfg",
        {"name": "global-dockercfg", "registries": [registry()]},
        f"has type {DOCKERCFG}, not {DOCKERCONFIGJSON}",
        "Fix the secret by hand",
    ),
    gps(
        "content-over-the-secret-limit",
        {"auth_content": large_document(2 * SECRET_LIMIT)},
        "more than the 1,048,576 bytes",
        "remove entries the nodes do not need",
    ),
    gps(
        "secret-missing",
        {"name": "no-such-pull-secret", "registries": [registry()]},
        "does not exist",
        "check name and namespace",
    ),
    # --- image_tag
    tag(
        "source-upper-case",
        {"source": "quay.io/Corpus/App:1"},
        "repository name must be lowercase",
        "write the repository path in lower case",
    ),
    tag(
        "source-tag-with-space",
        {"source": "quay.io/corpus/app:bad tag"},
        "invalid image reference",
        "it must look like [registry/]",
    ),
    tag(
        "source-short-digest",
        {"source": "quay.io/corpus/app@sha256:abc"},
        'invalid image reference "quay.io/corpus/app@sha256:abc"',
        "it must look like",
    ),
    tag(
        "source-with-scheme",
        {"source": "https://quay.io/corpus/app:1"},
        '"https://quay.io/corpus/app:1"',
        "no scheme such as https://",
    ),
    tag("source-missing", {"source": None}, "state is present but all of the following are missing: source", "source"),
    tag("source-type-unknown", {"source_type": "git"}, "value of source_type must be one of", "ImageStreamTag"),
    tag(
        "dest-namespace-invalid",
        {"dest": ["Corpus_NS/ruby:x"]},
        'invalid namespace "Corpus_NS"',
        "must be a DNS-1123 label",
    ),
    tag("dest-empty-stream", {"dest": [":x"]}, 'invalid image stream name ""', "must match"),
    tag(
        "dest-digest",
        {"dest": ["ruby@sha256:" + "b" * 64]},
        "names an image, not a tag",
        "a destination is [namespace/]stream:tag",
    ),
    tag("dest-empty-list", {"dest": []}, "dest is required", "[namespace/]stream:tag"),
    tag("alias-of-itself", {"source": "ruby:corpus", "alias": True}, "alias of itself", "make it track another tag"),
    tag(
        "reference-policy-unknown",
        {"reference_policy": "remote"},
        "value of reference_policy must be one of",
        "source, local",
    ),
    tag(
        "import-mode-lower-case",
        {"import_mode": "legacy"},
        "value of import_mode must be one of",
        "Legacy, PreserveOriginal",
    ),
    tag(
        "namespace-invalid",
        {"namespace": "Corpus Project"},
        'invalid namespace "Corpus Project"',
        "must be a DNS-1123 label",
    ),
    tag(
        "insecure-not-boolean",
        {"insecure": "sometimes"},
        "'sometimes' is not a valid boolean",
        "Valid booleans include",
    ),
    # --- secret_link
    link("secrets-empty", {"secrets": []}, "secrets is empty", "name at least one secret"),
    link("secret-kind-only", {"secrets": ["secret/"]}, "secrets ('secret/')", "must be non-empty"),
    link(
        "secret-path-too-deep", {"secrets": ["secrets/a/b"]}, "'a/b' is not a valid secret name", "lower-case letters"
    ),
    link(
        "secret-name-with-space",
        {"secrets": ["company registry"]},
        "'company registry' is not a valid secret name",
        "lower-case letters",
    ),
    link(
        "service-account-full-user-name",
        {"service_account": f"system:serviceaccount:{NS}:default"},
        "is not a valid service account name",
        "lower-case letters",
    ),
    link("service-account-empty", {"service_account": ""}, "'' is not a valid service account name", "non-empty"),
    link("state-unknown", {"state": "linked"}, "value of state must be one of", "present, absent"),
    link("namespace-upper-case", {"namespace": "Corpus_NS"}, "'Corpus_NS' is not a valid namespace name", "lower-case"),
    link(
        "host-with-space",
        {"host": "https://api cluster:6443", "api_key": "sha256~corpus-host-space-token"},
        "contains spaces or control characters",
        "https://api.cluster.example.com:6443",
    ),
    # --- image_puller_binding
    bind(
        "namespace-invalid",
        {"namespace": "Corpus_NS"},
        "'Corpus_NS' is not a valid namespace name",
        "lower-case letters",
    ),
    bind(
        "role-with-slash", {"role": "system/image-puller"}, "'system/image-puller' is not a valid name", "contain '/'"
    ),
    bind("role-with-leading-space", {"role": " system:image-puller"}, "is not a valid name", "white space"),
    bind("binding-name-dot-dot", {"binding_name": ".."}, "'..' is not a valid name", "'.' or '..'"),
    bind("group-with-slash", {"service_accounts": [], "groups": ["corpus/team"]}, "corpus/team", "contain '/'"),
    bind("user-empty", {"service_accounts": [], "users": [""]}, "users: '' is not a valid name", "must not be empty"),
    bind("service-account-number", {"service_accounts": [42]}, "42", "NAMESPACE:NAME"),
    bind(
        "service-account-extra-field",
        {"service_accounts": [{"namespace": NS, "name": "default", "kind": "User"}]},
        "has unknown keys kind",
        "only namespace and name",
    ),
    bind(
        "service-account-bad-namespace",
        {"service_accounts": ["system:serviceaccount:Corpus:default"]},
        "not a valid namespace name",
        "lower-case letters",
    ),
    bind("wait-timeout-negative", {"wait_timeout": -5}, "wait_timeout", "zero or more seconds"),
    bind("verify-not-boolean", {"verify": "sure"}, "'sure' is not a valid boolean", "Valid booleans include"),
    bind("state-unknown", {"state": "granted"}, "value of state must be one of", "present, absent"),
    bind(
        "from-namespace-empty",
        {"service_accounts": [], "from_namespaces": [""]},
        "is not a valid namespace name",
        "lower-case letters",
    ),
]

ROLE_CASES: list[Case] = [
    role(
        "cross_project_access",
        "namespace-missing",
        {"cross_project_access_service_accounts": ["a:default"]},
        "missing required arguments: cross_project_access_image_namespace",
        "cross_project_access_image_namespace",
    ),
    role(
        "cross_project_access",
        "state-unknown",
        {**CROSS, "cross_project_access_state": "maybe"},
        "cross_project_access_state must be one of",
        "present, absent",
    ),
    role(
        "cross_project_access",
        "verify-not-boolean",
        {**CROSS, "cross_project_access_verify": "perhaps"},
        "'perhaps' is not a valid boolean",
        "Valid booleans include",
    ),
    role(
        "cross_project_access",
        "no-subject",
        {"cross_project_access_image_namespace": NS},
        "cross_project_access_service_accounts",
        "Name at least one subject",
    ),
    role(
        "cross_project_access",
        "service-account-empty-name",
        {**CROSS, "cross_project_access_service_accounts": [f"{NS}:"]},
        "has an empty namespace or name",
        "write 'NAMESPACE:NAME'",
    ),
    role(
        "cross_project_access",
        "from-namespace-invalid",
        {**CROSS, "cross_project_access_from_namespaces": ["Corpus_NS"]},
        "'Corpus_NS' is not a valid namespace name",
        "lower-case letters",
    ),
    role(
        "cross_project_access",
        "image-namespace-invalid",
        {**CROSS, "cross_project_access_image_namespace": "Corpus NS"},
        "'Corpus NS' is not a valid namespace name",
        "lower-case letters",
    ),
    role(
        "image_promotion",
        "source-missing",
        {"image_promotion_targets": ["a/b:c"]},
        "missing required arguments: image_promotion_source",
        "image_promotion_source",
    ),
    role(
        "image_promotion",
        "targets-missing",
        {"image_promotion_source": "a/b:c"},
        "missing required arguments: image_promotion_targets",
        "image_promotion_targets",
    ),
    role(
        "image_promotion",
        "source-type-short-name",
        {**PROMOTION, "image_promotion_source_type": "istag"},
        "image_promotion_source_type must be one of",
        "ImageStreamTag",
    ),
    role(
        "image_promotion",
        "reference-policy-unknown",
        {**PROMOTION, "image_promotion_reference_policy": "remote"},
        "image_promotion_reference_policy must be one of",
        "source, local",
    ),
    role(
        "image_promotion",
        "target-without-tag",
        {**PROMOTION, "image_promotion_targets": [f"{NS}/ruby"]},
        '"ruby" must be of the form',
        "<stream_name>:<tag>",
    ),
    role(
        "image_promotion",
        "source-upper-case",
        {**PROMOTION, "image_promotion_source": "quay.io/Corpus/App:1"},
        "repository name must be lowercase",
        "write the repository path in lower case",
    ),
    role(
        "registry_onboarding",
        "server-missing",
        {k: v for k, v in ONBOARDING.items() if k != "registry_onboarding_server"},
        "missing required arguments: registry_onboarding_server",
        "registry_onboarding_server",
    ),
    role(
        "registry_onboarding",
        "password-missing",
        {k: v for k, v in ONBOARDING.items() if k != "registry_onboarding_password"},
        "are required with registry_onboarding_state present",
        "set both (the password from a vault)",
    ),
    role(
        "registry_onboarding",
        "server-with-tag",
        {**ONBOARDING, "registry_onboarding_server": "registry.example.com/app:1"},
        "not a tag",
        "drop the tag: registry.example.com/app",
    ),
    role(
        "registry_onboarding",
        "server-with-scheme",
        {**ONBOARDING, "registry_onboarding_server": "docker://registry.example.com"},
        "only https:// or http:// may prefix",
        KEY_FIX,
    ),
    role(
        "registry_onboarding",
        "namespace-invalid",
        {**ONBOARDING, "registry_onboarding_namespaces": ["Corpus_NS"]},
        "'Corpus_NS' is not a valid namespace name",
        "lower-case letters",
    ),
    role(
        "registry_onboarding",
        "namespaces-comma-string",
        {**ONBOARDING, "registry_onboarding_namespaces": f"{NS},{NS}-b"},
        "must be YAML lists",
        "a comma-separated string is not split",
    ),
    role(
        "registry_onboarding",
        "secret-name-invalid",
        {**ONBOARDING, "registry_onboarding_secret_name": "Registry_Secret"},
        "'Registry_Secret' is not a valid secret name",
        "lower-case letters",
    ),
    role(
        "registry_onboarding",
        "service-account-invalid",
        {**ONBOARDING, "registry_onboarding_service_accounts": ["Default SA"]},
        "'Default SA' is not a valid service account name",
        "lower-case letters",
    ),
    role(
        "registry_onboarding",
        "global-not-boolean",
        {**ONBOARDING, "registry_onboarding_global": "sometimes"},
        "'sometimes' is not a valid boolean",
        "Valid booleans include",
    ),
    role(
        "registry_onboarding",
        "username-with-colon",
        {**ONBOARDING, "registry_onboarding_username": "corpus:user"},
        "contains ':'",
        "user name without ':'",
    ),
    role(
        "registry_onboarding",
        "state-unknown",
        {**ONBOARDING, "registry_onboarding_state": "onboarded"},
        "registry_onboarding_state must be one of",
        "present, absent",
    ),
]

CASES = MODULE_CASES + ROLE_CASES


def test_the_corpus_holds_at_least_80_distinct_inputs() -> None:
    """The count cannot drop silently: every case is a distinct input (target and options), 80 at least."""
    inputs = {(case.target, case.kubeconfig, json.dumps(case.params, sort_keys=True)) for case in CASES}
    assert len({case.id for case in CASES}) == len(CASES), "two cases share an id"
    assert len(inputs) == len(CASES), "two cases are the same input"
    assert len(CASES) >= 80, len(CASES)
    assert {case.target for case in CASES} == {
        "pull_secret",
        "global_pull_secret",
        "image_tag",
        "secret_link",
        "image_puller_binding",
        "role:cross_project_access",
        "role:image_promotion",
        "role:registry_onboarding",
    }


# --------------------------------------------------------------------------------------------------------------------
# The workspace every case runs in: one namespace, the files and the objects in the way


@dataclass(frozen=True)
class Workspace:
    namespace: str
    files: Path
    kubeconfig: str
    managed_secret: str
    versions: dict[str, str]  # secret name -> resourceVersion, as created

    def fill(self, value: Any) -> Any:
        """``value`` with the placeholders replaced, in every string of a nested structure."""
        if isinstance(value, str):
            for token, text in (
                (NS, self.namespace),
                (FILES, str(self.files)),
                (MANAGED, self.managed_secret),
                (KUBECONFIG, self.kubeconfig),
            ):
                value = value.replace(token, text)
            return value
        if isinstance(value, Mapping):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value


def impersonating_kubeconfig(source: str, target: Path, *, current_context: bool = True) -> str:
    """A copy of the admin kubeconfig whose user impersonates ``CORPUS_USER`` (as a cluster admin)."""
    config = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    for user in config["users"]:
        user["user"]["as"] = CORPUS_USER
        user["user"]["as-groups"] = ["system:masters", "system:authenticated"]
    if not current_context:
        config.pop("current-context", None)
    target.touch(mode=0o600)
    target.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(target)


def secret_body(name: str, secret_type: str, data: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, **extra.pop("metadata", {})},
        "type": secret_type,
        "data": {key: b64(value) for key, value in data.items()},
        **extra,
    }


def write_files(files: Path, sandbox: Sandbox) -> None:
    entry = {"auths": {"quay.io": {"auth": AUTH}}}
    (files / "truncated.json").write_text(json.dumps(entry)[:-2], encoding="utf-8")
    (files / "auth.yaml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    (files / "latin1.json").write_bytes(json.dumps(entry)[:-2].encode() + b', "email": "caf\xe9@example.com"}}}')
    (files / "empty.json").write_text("", encoding="utf-8")
    (files / "creds-store.json").write_text(json.dumps({"auths": {"quay.io": {}}, "credsStore": "desktop"}))
    large = large_document(5 * SECRET_LIMIT, last={"auth": NOT_BASE64_AUTH})
    (files / "large-broken.json").write_text(json.dumps(large), encoding="utf-8")
    (files / "auth-dir").mkdir()
    (files / "plain-file").write_text("not a directory\n", encoding="utf-8")
    (files / "broken-kubeconfig").write_text("apiVersion: v1\nclusters: [\n  - name: x\n", encoding="utf-8")


@pytest.fixture(scope="module")
def workspace(sandbox: Sandbox, kube: Kube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A project set up as OpenShift does, holding the objects some cases meet, and the files the cases read."""
    name = f"it-bad-input-corpus-{secrets.token_hex(3)}"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        managed = wait_for_project_setup(kube, name)
        files = tmp_path_factory.mktemp("corpus-files")
        write_files(files, sandbox)
        kubeconfig = impersonating_kubeconfig(sandbox.kubeconfig, files / "kubeconfig")
        impersonating_kubeconfig(sandbox.kubeconfig, files / "no-current-context", current_context=False)
        secrets_path = f"/api/v1/namespaces/{name}/secrets"
        old_document = json.dumps({"auths": {"old.example.com": {"auth": OLD_AUTH}}})
        owner = kube.create(
            f"/api/v1/namespaces/{name}/configmaps",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "corpus-owner"}},
        )
        versions: dict[str, str] = {}
        owner_ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "corpus-owner", "uid": owner["metadata"]["uid"]}
        for body in (
            secret_body("opaque-in-the-way", "Opaque", {".dockerconfigjson": old_document}),
            secret_body("immutable-pull", DOCKERCONFIGJSON, {".dockerconfigjson": old_document}, immutable=True),
            secret_body("unreadable-pull", DOCKERCONFIGJSON, {".dockerconfigjson": "null"}),
            secret_body(
                "owned-pull",
                DOCKERCONFIGJSON,
                {".dockerconfigjson": old_document},
                metadata={"ownerReferences": [owner_ref]},
            ),
            secret_body(
                "global-copy", DOCKERCONFIGJSON, {".dockerconfigjson": json.dumps(seeded_pull_secret_document())}
            ),
            secret_body(
                "global-dockercfg", DOCKERCFG, {".dockercfg": json.dumps({"old.example.com": {"auth": OLD_AUTH}})}
            ),
            secret_body("company-registry", DOCKERCONFIGJSON, {".dockerconfigjson": old_document}),
        ):
            created = kube.create(secrets_path, body)
            versions[body["metadata"]["name"]] = created["metadata"]["resourceVersion"]
        managed_secret = kube.get(f"{secrets_path}/{managed['default']}")
        versions[managed["default"]] = managed_secret["metadata"]["resourceVersion"]
        yield Workspace(
            namespace=name, files=files, kubeconfig=kubeconfig, managed_secret=managed["default"], versions=versions
        )
    finally:
        kube.delete(f"/api/v1/namespaces/{name}")


# --------------------------------------------------------------------------------------------------------------------
# Running a case


@dataclass(frozen=True)
class Write:
    """A write the audit log shows, with the case that was running when the API server received it."""

    case: str
    verb: str
    uri: str
    user: str


def writes_of_runs(audit: AuditLog, mark: AuditMark, workspace: Workspace, windows: list[Window]) -> list[Write]:
    """Every write since ``mark`` the runs could have made: as the corpus user, anonymously, or in the corpus
    namespace by anyone but the control plane. Writes by other tests sharing the sandbox are not ours."""
    found = []
    for event in audit.writes(since=mark):
        user = (event.get("user") or {}).get("username", "")
        impersonated = (event.get("impersonatedUser") or {}).get("username", "")
        ref = event.get("objectRef") or {}
        if (
            CORPUS_USER in (user, impersonated)
            or user == "system:anonymous"
            or ref.get("namespace") == workspace.namespace
        ):
            received = dt.datetime.fromisoformat(event["requestReceivedTimestamp"].replace("Z", "+00:00"))
            case = next((w.case for w in windows if w.started <= received <= w.finished), "between cases")
            found.append(Write(case, event["verb"], event.get("requestURI", ""), impersonated or user))
    return found


@dataclass(frozen=True)
class Window:
    """When one case ran (wall clock, as the audit log records it)."""

    case: str
    started: dt.datetime
    finished: dt.datetime


def playbook_failure(stdout: str) -> dict[str, Any]:
    """The result of the task that failed, from ansible-playbook's output (one line or indented, at any
    verbosity); a crash is never an expected failure."""
    results = []
    for match in re.finditer(
        r"^(?:fatal: \[localhost\]: FAILED!|failed: \[localhost\] \(item=.*?\)) => ", stdout, re.MULTILINE
    ):
        result, _end = json.JSONDecoder().raw_decode(stdout, match.end())
        results.append(result)
    if not results:
        raise AssertionError(f"no task failed:\n{stdout[-4000:]}")
    result = results[-1]
    if "MODULE FAILURE" in str(result.get("msg")) or "Traceback" in json.dumps(result):
        raise ModuleCrashError(f"a task crashed:\n{stdout[-4000:]}")
    return {**result, "failed": True}


PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: openshift_ops.images.{role}
"""


def run_case(case: Case, workspace: Workspace, run_module: ModuleRunner, run_playbook: PlaybookRunner) -> str:
    """Run one case and check its result; returns its message. AssertionError (ModuleCrashError too) says why the
    case does not hold."""
    params = workspace.fill(dict(case.params))
    kubeconfig = workspace.fill(case.kubeconfig)
    if case.is_role:
        env = {"K8S_AUTH_KUBECONFIG": kubeconfig, "KUBECONFIG": kubeconfig}
        completed = run_playbook(PLAY.format(role=case.target.removeprefix("role:")), extra_vars=params, env=env)
        output = completed.stdout + completed.stderr
        assert completed.returncode != 0, output[-4000:]
        result = playbook_failure(completed.stdout)
    else:
        result = run_module(case.target, {k: v for k, v in params.items() if v is not None}, kubeconfig=kubeconfig)
        assert run_module.last is not None
        output = json.dumps(result) + run_module.last.stdout + run_module.last.stderr
    message = str(result.get("msg", ""))
    assert result.get("failed") is True, f"the task did not fail: {message or result}"
    assert result.get("changed", False) is False, result
    assert workspace.fill(case.wrong) in message, f"what is wrong ({case.wrong!r}) is not in: {message}"
    assert workspace.fill(case.fix) in message, f"what to do ({case.fix!r}) is not in: {message}"
    for value in (*SECRET_VALUES, *case.extra_secrets):
        assert value not in output, "a secret value of the input shows in the output"
    return message


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The audit log reaches the file in batches, so each mark and each read waits for its flush (about two seconds):
# the cases of one target share one mark and one read, and any write is traced to its case by time.
TARGETS = sorted({case.target for case in CASES})


@pytest.mark.parametrize("target", TARGETS)
def test_bad_input_fails_with_the_fix_and_writes_nothing(
    target: str,
    workspace: Workspace,
    run_module: ModuleRunner,
    run_playbook: PlaybookRunner,
    audit: AuditLog,
) -> None:
    cases = [case for case in CASES if case.target == target]
    problems: list[str] = []
    windows: list[Window] = []
    mark = audit.mark()
    for case in cases:
        started = now()
        try:
            message = run_case(case, workspace, run_module, run_playbook)
        except AssertionError as error:
            problems.append(f"{case.id}: {error}")
        else:
            print(f"{case.id}: {message}")
        windows.append(Window(case.id, started, now()))
    writes = writes_of_runs(audit, mark, workspace, windows)
    problems += [f"{write.case}: wrote {write.verb} {write.uri} as {write.user}" for write in writes]
    assert not problems, f"{len(problems)} of {len(cases)} {target} cases do not hold:\n" + "\n".join(problems)


def test_the_objects_in_the_way_are_untouched(workspace: Workspace, kube: Kube) -> None:
    """After every case (this test runs after them), the objects the cases met are as they were created."""
    assert workspace.versions
    for name, version in workspace.versions.items():
        secret = kube.get(f"/api/v1/namespaces/{workspace.namespace}/secrets/{name}")
        assert secret is not None, name
        assert secret["metadata"]["resourceVersion"] == version, name
