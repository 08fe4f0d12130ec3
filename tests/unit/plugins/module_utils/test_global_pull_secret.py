"""Planning the global pull secret: merge/remove/replace, the Telemetry guard, and refusals that prevent a fail-open
write (openshift-semantics.md §6.2, §8)."""

from __future__ import annotations

import base64
import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ClusterStateError, InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.apply import write_backup
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.plan import (
    DATA_KEY,
    DOCKERCONFIGJSON_TYPE,
    TELEMETRY_KEY,
    DocumentChange,
    DocumentPlan,
    check_telemetry_guard,
    missing_secret_error,
    parse_stored_document,
    plan_document,
    plan_secret_write,
    read_stored_content,
    redacted_diff,
    redacted_view,
    registries_result,
    removal_keys,
    updated_secret,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.request import (
    DEFAULT_BACKUP_DIR,
    GlobalPullSecretRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry import redaction
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import dump_document
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import entry_from_credentials
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    RegistryCredentials,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import document_secret_values
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

WHERE = "openshift-config/pull-secret"


def cluster_document() -> dict[str, Any]:
    """The shape of an installer pull secret: every entry carries auth and email."""
    return {
        "auths": {
            TELEMETRY_KEY: {"auth": b64("telemetry-user:telemetry-token-SECRET"), "email": "owner@example.com"},
            "quay.io": {"auth": b64("quay-user:quay-SECRET"), "email": "owner@example.com"},
            "registry.redhat.io": {"auth": b64("rh-user:rh-SECRET"), "email": "owner@example.com"},
            "registry.connect.redhat.com": {"auth": b64("rhc-user:rhc-SECRET"), "email": "owner@example.com"},
        }
    }


NEW_ENTRY = entry_from_credentials(username="developer", password="dev-SECRET-pw")


def secret_for(content: bytes | str, *, secret_type: str = DOCKERCONFIGJSON_TYPE, **extra_data: str) -> dict[str, Any]:
    raw = content.encode() if isinstance(content, str) else content
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "pull-secret",
            "namespace": "openshift-config",
            "resourceVersion": "42",
            "labels": {"keep": "me"},
            "annotations": {"a": "b"},
        },
        "type": secret_type,
        "data": {DATA_KEY: base64.b64encode(raw).decode(), **extra_data},
    }


# --- reading what is stored --------------------------------------------------------------------------------------


def test_read_stored_content_returns_the_exact_bytes() -> None:
    text = json.dumps(cluster_document(), indent=3) + "\n"
    assert read_stored_content(secret_for(text), where=WHERE) == text.encode()


def test_missing_secret_is_refused() -> None:
    with pytest.raises(ClusterStateError, match="does not exist; nothing was written"):
        raise missing_secret_error(WHERE)


@pytest.mark.parametrize("secret_type", ["Opaque", "kubernetes.io/dockercfg", None])
def test_other_secret_types_are_refused(secret_type: str | None) -> None:
    secret = secret_for("{}")
    secret["type"] = secret_type
    with pytest.raises(ClusterStateError) as caught:
        read_stored_content(secret, where=WHERE)
    assert f"has type {secret_type or 'Opaque'}, not {DOCKERCONFIGJSON_TYPE}" in str(caught.value)
    assert "nothing was written" in str(caught.value)


@pytest.mark.parametrize("data", [None, {}, {DATA_KEY: ""}, {DATA_KEY: 7}, {"other": "e30="}])
def test_secret_without_the_data_key_is_refused(data: dict[str, Any] | None) -> None:
    secret = secret_for("{}")
    secret["data"] = data
    with pytest.raises(ClusterStateError, match=r"has no \.dockerconfigjson data; nothing was written"):
        read_stored_content(secret, where=WHERE)


def test_data_that_is_not_base64_is_refused() -> None:
    secret = secret_for("{}")
    secret["data"][DATA_KEY] = "not base64!"
    with pytest.raises(ClusterStateError, match="is not base64; nothing was written"):
        read_stored_content(secret, where=WHERE)


def test_parse_stored_document_accepts_any_formatting() -> None:
    text = json.dumps(cluster_document(), indent=8).encode()
    assert parse_stored_document(text, where=WHERE) == cluster_document()


def test_invalid_json_is_refused_without_showing_content() -> None:
    broken = b'{"auths": {"quay.io": {"auth": "c2VjcmV0LXZhbHVl"}'
    with pytest.raises(ClusterStateError) as caught:
        parse_stored_document(broken, where=WHERE)
    message = str(caught.value)
    assert "is not valid JSON" in message
    assert "line 1 column" in message
    assert "nothing was written" in message
    assert "c2VjcmV0LXZhbHVl" not in message


def test_non_utf8_content_is_refused() -> None:
    with pytest.raises(ClusterStateError, match="is not UTF-8 text"):
        parse_stored_document(b'{"auths": {"\xff": {}}}', where=WHERE)


@pytest.mark.parametrize(("text", "kind"), [("null", "NoneType"), ("[]", "list"), ('"x"', "str")])
def test_non_object_json_is_refused(text: str, kind: str) -> None:
    # The API server accepts `null` in a dockerconfigjson (§3.2); merging into it would write a one-entry document.
    with pytest.raises(ClusterStateError, match=f"is JSON {kind}, not an object"):
        parse_stored_document(text.encode(), where=WHERE)


def test_auths_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ClusterStateError, match=r"auths field .* is not an object"):
        parse_stored_document(b'{"auths": []}', where=WHERE)


def test_document_without_auths_is_accepted() -> None:
    assert parse_stored_document(b'{"credHelpers": {}}', where=WHERE) == {"credHelpers": {}}


# --- the Telemetry guard ------------------------------------------------------------------------------------------


def test_guard_passes_when_the_entry_is_untouched() -> None:
    before = cluster_document()
    after = copy.deepcopy(before)
    after["auths"]["example.com"] = NEW_ENTRY
    assert check_telemetry_guard(before, after, allowed=False, where=WHERE) is False


def test_guard_passes_when_neither_document_has_the_entry() -> None:
    assert check_telemetry_guard({"auths": {}}, {}, allowed=False, where=WHERE) is False


@pytest.mark.parametrize(
    ("mutate", "verb"),
    [
        (lambda doc: doc["auths"].pop(TELEMETRY_KEY), "remove the cloud.openshift.com entry from"),
        (lambda doc: doc["auths"][TELEMETRY_KEY].pop("auth"), "change the cloud.openshift.com entry in"),
        (lambda doc: doc["auths"][TELEMETRY_KEY].update(auth=b64("other:token")), "change the cloud.openshift.com"),
        (lambda doc: doc["auths"][TELEMETRY_KEY].update(email="new@example.com"), "change the cloud.openshift.com"),
        (lambda doc: doc.pop("auths"), "remove the cloud.openshift.com entry from"),
    ],
)
def test_guard_refuses_any_change_to_the_entry(mutate: Any, verb: str) -> None:
    before = cluster_document()
    after = copy.deepcopy(before)
    mutate(after)
    with pytest.raises(InvalidInputError) as caught:
        check_telemetry_guard(before, after, allowed=False, where=WHERE)
    message = str(caught.value)
    assert verb in message
    assert "nothing was written" in message
    assert "Telemetry and the Insights Operator stop reporting" in message
    assert "allow_telemetry_change: true" in message
    assert "telemetry-token-SECRET" not in message
    assert check_telemetry_guard(before, after, allowed=True, where=WHERE) is True


def test_guard_refuses_adding_the_entry() -> None:
    after = {"auths": {TELEMETRY_KEY: {"auth": b64("a:b")}}}
    with pytest.raises(InvalidInputError, match=r"add a cloud\.openshift\.com entry to"):
        check_telemetry_guard({"auths": {}}, after, allowed=False, where=WHERE)


# --- planning ---------------------------------------------------------------------------------------------------------


def test_append_keeps_every_other_entry_and_field_exactly() -> None:
    before = cluster_document()
    before["credHelpers"] = {"ecr.example.com": "ecr-login"}
    plan = plan_document(before, DocumentChange(entries={"privateregistry.example.com": NEW_ENTRY}), where=WHERE)
    assert plan.changed
    assert plan.added == ["privateregistry.example.com"]
    assert plan.updated == plan.removed == []
    assert not plan.telemetry_changed
    assert list(plan.after["auths"]) == [*cluster_document()["auths"], "privateregistry.example.com"]
    for key, entry in cluster_document()["auths"].items():
        assert dump_document(plan.after["auths"][key]) == dump_document(entry)
    assert plan.after["credHelpers"] == {"ecr.example.com": "ecr-login"}
    assert plan.after["auths"]["privateregistry.example.com"] == NEW_ENTRY
    assert plan.before == before


def test_plan_does_not_mutate_its_input() -> None:
    before = cluster_document()
    plan_document(before, DocumentChange(entries={"x.example.com": NEW_ENTRY}, remove=("quay.io",)), where=WHERE)
    assert before == cluster_document()


def test_same_entries_again_are_no_change() -> None:
    first = plan_document(cluster_document(), DocumentChange(entries={"r.example.com": NEW_ENTRY}), where=WHERE)
    second = plan_document(first.after, DocumentChange(entries={"r.example.com": NEW_ENTRY}), where=WHERE)
    assert not second.changed
    assert second.added == second.updated == second.removed == []


def test_whitespace_and_key_order_only_is_no_change() -> None:
    stored = json.dumps(cluster_document(), indent=4, sort_keys=True).encode()
    before = parse_stored_document(stored, where=WHERE)
    entry = cluster_document()["auths"]["quay.io"]
    reordered = {"email": entry["email"], "auth": entry["auth"]}
    plan = plan_document(before, DocumentChange(entries={"quay.io": reordered}), where=WHERE)
    assert not plan.changed


def test_updating_an_entry_reports_it_updated() -> None:
    plan = plan_document(cluster_document(), DocumentChange(entries={"quay.io": NEW_ENTRY}), where=WHERE)
    assert plan.changed
    assert plan.updated == ["quay.io"]
    assert list(plan.after["auths"]) == list(cluster_document()["auths"])  # replaced in place


def test_removal_of_present_and_absent_keys() -> None:
    plan = plan_document(
        cluster_document(), DocumentChange(entries={}, remove=("quay.io", "gone.example.com")), where=WHERE
    )
    assert plan.changed
    assert plan.removed == ["quay.io"]
    assert "quay.io" not in plan.after["auths"]
    again = plan_document(plan.after, DocumentChange(entries={}, remove=("quay.io",)), where=WHERE)
    assert not again.changed
    assert again.removed == []


def test_removal_matches_equivalent_spellings() -> None:
    plan = plan_document(cluster_document(), DocumentChange(entries={}, remove=("https://quay.io",)), where=WHERE)
    assert plan.removed == ["quay.io"]


def test_rotation_removes_and_adds_in_one_plan() -> None:
    plan = plan_document(
        cluster_document(),
        DocumentChange(entries={"new-registry.example.com": NEW_ENTRY}, remove=("registry.connect.redhat.com",)),
        where=WHERE,
    )
    assert (plan.added, plan.removed) == (["new-registry.example.com"], ["registry.connect.redhat.com"])


def test_removing_the_telemetry_entry_needs_the_flag() -> None:
    change = DocumentChange(entries={}, remove=(TELEMETRY_KEY,))
    with pytest.raises(InvalidInputError, match=r"remove the cloud\.openshift\.com entry"):
        plan_document(cluster_document(), change, where=WHERE)
    allowed = DocumentChange(entries={}, remove=(TELEMETRY_KEY,), allow_telemetry_change=True)
    plan = plan_document(cluster_document(), allowed, where=WHERE)
    assert plan.telemetry_changed
    assert plan.removed == [TELEMETRY_KEY]


def test_an_equivalent_spelling_of_the_telemetry_key_is_still_guarded() -> None:
    # merge_entries replaces the equivalent key, which would rename the entry the monitoring operator looks up.
    change = DocumentChange(entries={"https://cloud.openshift.com": cluster_document()["auths"][TELEMETRY_KEY]})
    with pytest.raises(InvalidInputError, match=r"remove the cloud\.openshift\.com entry"):
        plan_document(cluster_document(), change, where=WHERE)


def test_replace_without_the_telemetry_entry_is_refused_then_allowed() -> None:
    entries = {"quay.io": NEW_ENTRY}
    with pytest.raises(InvalidInputError, match="with replace: true give its current entry unchanged"):
        plan_document(cluster_document(), DocumentChange(entries=entries, replace=True), where=WHERE)
    plan = plan_document(
        cluster_document(), DocumentChange(entries=entries, replace=True, allow_telemetry_change=True), where=WHERE
    )
    assert plan.after == {"auths": {"quay.io": NEW_ENTRY}}
    assert plan.removed == [TELEMETRY_KEY, "registry.redhat.io", "registry.connect.redhat.com"]
    assert plan.updated == ["quay.io"]


def test_replace_keeping_the_telemetry_entry_needs_no_flag() -> None:
    entries = {TELEMETRY_KEY: cluster_document()["auths"][TELEMETRY_KEY], "quay.io": NEW_ENTRY}
    plan = plan_document(cluster_document(), DocumentChange(entries=entries, replace=True), where=WHERE)
    assert plan.after == {"auths": entries}
    assert not plan.telemetry_changed


def test_replace_drops_other_top_level_fields() -> None:
    before = {**cluster_document(), "credHelpers": {"x": "y"}}
    entries = dict(cluster_document()["auths"])
    plan = plan_document(before, DocumentChange(entries=entries, replace=True), where=WHERE)
    assert plan.changed
    assert plan.after == cluster_document()


def test_replace_with_the_same_document_is_no_change() -> None:
    plan = plan_document(
        cluster_document(), DocumentChange(entries=cluster_document()["auths"], replace=True), where=WHERE
    )
    assert not plan.changed


def test_a_broken_entry_in_the_cluster_blocks_a_merge_with_a_clear_message() -> None:
    before = cluster_document()
    before["auths"]["broken.example.com"] = {"auth": "bm8tY29sb24="}  # base64 of "no-colon"
    with pytest.raises(ClusterStateError) as caught:
        plan_document(before, DocumentChange(entries={"r.example.com": NEW_ENTRY}), where=WHERE)
    message = str(caught.value)
    assert "broken.example.com" in message
    assert "already invalid" in message
    assert "remove_registries" in message
    assert "nothing was written" in message
    assert "bm8tY29sb24=" not in message


def test_a_broken_entry_in_the_cluster_can_be_removed() -> None:
    before = cluster_document()
    before["auths"]["broken.example.com"] = {"auth": "bm8tY29sb24="}
    plan = plan_document(before, DocumentChange(entries={}, remove=("broken.example.com",)), where=WHERE)
    assert plan.changed
    assert plan.after == cluster_document()


def test_a_broken_cluster_document_with_no_change_only_warns() -> None:
    before = cluster_document()
    before["auths"]["broken.example.com"] = {"auth": "bm8tY29sb24="}
    plan = plan_document(before, DocumentChange(entries={}, remove=("absent.example.com",)), where=WHERE)
    assert not plan.changed
    assert len(plan.warnings) == 1
    assert "broken.example.com" in plan.warnings[0]


def test_an_invalid_result_from_good_input_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_document(cluster_document(), DocumentChange(entries={"r.example.com": {"auth": 42}}), where=WHERE)
    assert "the new content for the secret openshift-config/pull-secret" in str(caught.value)
    assert "nothing was written" in str(caught.value)


# --- what is written and shown ----------------------------------------------------------------------------------------


def test_updated_secret_changes_only_the_data_key() -> None:
    secret = secret_for(json.dumps(cluster_document(), indent=2), other="b3RoZXI=")
    original = copy.deepcopy(secret)
    document = {"auths": {"a.example.com": NEW_ENTRY}}
    new = updated_secret(secret, document)
    assert secret == original
    assert base64.b64decode(new["data"][DATA_KEY]).decode() == dump_document(document)
    assert new["data"]["other"] == "b3RoZXI="
    for field in ("apiVersion", "kind", "metadata", "type"):
        assert new[field] == original[field]


def test_removal_keys_dedupes_and_validates() -> None:
    assert removal_keys(["quay.io", "a.example.com"], ["quay.io", "b.example.com/ns"]) == (
        "quay.io",
        "a.example.com",
        "b.example.com/ns",
    )
    with pytest.raises(InvalidInputError, match="tag"):
        removal_keys([], ["quay.io/ns/repo:latest"])


def test_registries_result_holds_keys_and_usernames_only() -> None:
    document = cluster_document()
    document["auths"]["r.example.com"] = NEW_ENTRY
    result = registries_result(document)
    assert result[0] == {"server": TELEMETRY_KEY, "username": "telemetry-user"}
    assert result[-1] == {"server": "r.example.com", "username": "developer"}
    assert all(set(item) == {"server", "username"} for item in result)
    assert "SECRET" not in json.dumps(result)


def test_registries_result_derives_no_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    # a fingerprint is a slow key derivation: thousands of entries would take seconds for user names only
    def refuse(_material: str) -> str:
        raise AssertionError("registries_result must not fingerprint")

    monkeypatch.setattr(redaction, "_fingerprint", refuse)
    document = cluster_document()
    document["auths"]["r.example.com"] = NEW_ENTRY
    assert registries_result(document)[-1] == {"server": "r.example.com", "username": "developer"}


def test_redacted_diff_shows_no_secret() -> None:
    before = {**cluster_document(), "credHelpers": {"x": "y"}}
    plan = plan_document(before, DocumentChange(entries={"r.example.com": NEW_ENTRY}), where=WHERE)
    diff = redacted_diff(plan, where=WHERE)
    text = json.dumps(diff)
    for value in document_secret_values(plan.after):
        assert value not in text
    assert "SECRET" not in text
    assert diff["after"]["auths"]["r.example.com"]["username"] == "developer"
    assert diff["after"]["other_fields"] == ["credHelpers"]
    assert diff["before"]["auths"]["quay.io"]["fingerprint"] == diff["after"]["auths"]["quay.io"]["fingerprint"]
    assert "openshift-config/pull-secret" in diff["before_header"]


def test_redacted_view_without_other_fields() -> None:
    assert set(redacted_view(cluster_document())) == {"auths"}


# --- properties -------------------------------------------------------------------------------------------------------

_HOSTS = st.from_regex(r"[a-z][a-z0-9]{0,8}\.(com|io|example)", fullmatch=True)
_WORDS = st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True)
_ENTRIES = st.builds(
    lambda user, password, email: entry_from_credentials(username=user, password=password, email=email),
    _WORDS,
    _WORDS,
    st.none() | st.emails(),
)


@settings(max_examples=60)  # each plan fingerprints entries with PBKDF2 (slow on purpose)
@given(
    existing=st.dictionaries(_HOSTS, _ENTRIES, max_size=6),
    new=st.dictionaries(_HOSTS, _ENTRIES, min_size=1, max_size=3),
)
def test_merge_keeps_everything_not_named_and_is_idempotent(existing: dict[str, Any], new: dict[str, Any]) -> None:
    before = {"auths": existing}
    change = DocumentChange(entries=new, allow_telemetry_change=True)
    plan = plan_document(before, change, where=WHERE)
    for key, entry in existing.items():
        if key not in new:
            assert dump_document(plan.after["auths"][key]) == dump_document(entry)
    for key, entry in new.items():
        assert plan.after["auths"][key] == entry
    assert plan.changed == any(existing.get(key) != entry for key, entry in new.items())
    assert not plan_document(plan.after, change, where=WHERE).changed


# --- the request and the backup file (_global_pull_secret/apply) ------------------------------------------------


def params(**given: Any) -> dict[str, Any]:
    """Module parameters with the argument spec's defaults."""
    defaults: dict[str, Any] = {
        "name": "pull-secret",
        "namespace": "openshift-config",
        "state": "present",
        "registries": None,
        "auth_file": None,
        "auth_content": None,
        "remove_registries": [],
        "replace": False,
        "allow_telemetry_change": False,
        "backup": False,
        "backup_dir": None,
        "validate_credentials": False,
        "registry_ca_cert": None,
        "registry_validate_certs": True,
        "wait": False,
        "wait_timeout": 1800,
    }
    return defaults | given


REGISTRY = {"server": "r.example.com", "username": "u", "password": "p"}


def test_request_for_a_merge() -> None:
    request = GlobalPullSecretRequest.from_params(params(registries=[REGISTRY], remove_registries=["old.example.com"]))
    assert request.path == "/api/v1/namespaces/openshift-config/secrets/pull-secret"
    assert request.where == WHERE
    assert request.remove == ("old.example.com",)
    assert request.credentials.entries == {"r.example.com": {"username": "u", "password": "p", "auth": "dTpw"}}
    assert request.backup_dir == DEFAULT_BACKUP_DIR
    assert request.wait_timeout == 1800.0


def test_request_for_absent_takes_keys_from_servers_and_remove_registries() -> None:
    request = GlobalPullSecretRequest.from_params(
        params(state="absent", registries=[{"server": "a.example.com"}], remove_registries=["b.example.com"])
    )
    assert request.remove == ("a.example.com", "b.example.com")
    assert request.credentials == RegistryCredentials.none()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "nothing to do"),
        ({"state": "absent"}, "needs the registry keys to remove"),
        ({"state": "absent", "auth_file": "/x"}, "not used with it"),
        ({"state": "absent", "replace": True, "remove_registries": ["a.io"]}, "not used with it"),
        ({"replace": True, "registries": [REGISTRY], "remove_registries": ["a.io"]}, "no effect with replace"),
        ({"registries": [REGISTRY], "wait_timeout": 0}, "wait_timeout must be a positive"),
        ({"remove_registries": ["a.io/x:tag"]}, "not a tag"),
    ],
)
def test_contradictory_requests_are_refused(given: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidInputError, match=expected):
        GlobalPullSecretRequest.from_params(params(**given))


def test_backup_file_is_private_and_rewritten_in_place(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "backups"
    path = write_backup(str(directory), where=WHERE, content=b'{"auths": {}}\n')
    assert Path(path).parent == directory
    assert Path(path).name.startswith("openshift-config_pull-secret.")
    assert Path(path).read_bytes() == b'{"auths": {}}\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    # A retry after a conflict backs up the document it actually replaces, in the same file.
    assert write_backup(str(directory), where=WHERE, content=b"{}", path=path) == path
    assert Path(path).read_bytes() == b"{}"
    assert len(list(directory.iterdir())) == 1


def test_backup_errors_name_the_directory_and_stop_the_write(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InvalidInputError) as caught:
        write_backup(str(blocker / "sub"), where=WHERE, content=b"secret-content")
    assert str(blocker / "sub") in str(caught.value)
    assert "nothing was written" in str(caught.value)
    assert "secret-content" not in str(caught.value)


# --- the plan of one read-modify-write ---------------------------------------------------------------------------


def test_plan_secret_write_names_the_secret_to_put_the_bytes_it_replaces_and_every_secret() -> None:
    stored = json.dumps(cluster_document(), indent=2).encode()
    asked: list[DocumentPlan] = []
    planned = plan_secret_write(
        secret_for(stored),
        where=WHERE,
        change=DocumentChange(entries={"privateregistry.example.com": NEW_ENTRY}),
        ensure_possible=asked.append,
    )
    assert asked == [planned.document]  # a write is due: the preconditions are consulted with the plan
    assert planned.stored == stored
    assert planned.write is not None and planned.write["metadata"]["labels"] == {"keep": "me"}
    assert "dev-SECRET-pw" in planned.secret_values and stored.decode() in planned.secret_values
    assert b64("quay-user:quay-SECRET") in planned.secret_values

    unchanged = plan_secret_write(
        secret_for(stored), where=WHERE, change=DocumentChange(entries={}), ensure_possible=asked.append
    )
    assert unchanged.write is None and asked == [planned.document]  # nothing to write: nothing to refuse

    def refuse(_plan: DocumentPlan) -> None:
        raise InvalidInputError("a paused pool; nothing was written")

    with pytest.raises(InvalidInputError, match="paused pool"):
        plan_secret_write(
            secret_for(stored),
            where=WHERE,
            change=DocumentChange(entries={"privateregistry.example.com": NEW_ENTRY}),
            ensure_possible=refuse,
        )
    with pytest.raises(ClusterStateError, match="does not exist"):
        plan_secret_write(None, where=WHERE, change=DocumentChange(entries={}), ensure_possible=refuse)
