"""Unit tests of the registry-credential option group: argument spec, doc fragment, and entry collection."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.openshift_ops.images.plugins.doc_fragments.registry_credentials import ModuleDocFragment
from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    CREDENTIAL_SOURCE_OPTIONS,
    RegistryCredentials,
    RegistryTls,
    collect_registry_entries,
    registry_credentials_argument_spec,
    registry_entries_from_list,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

SECRET = "pw-S3CRET-value"


# --- the spec and its documentation face -------------------------------------------------------------------------


def _option_view(options: dict, nested: str) -> dict:
    """Type, required and elements of each option and of the options under its ``nested`` key (``suboptions`` in
    the documentation, ``options`` in the argument spec)."""
    view = {}
    for name, option in options.items():
        item = {"type": option.get("type", "str"), "required": option.get("required", False)}
        if "elements" in option:
            item["elements"] = option["elements"]
        if nested in option:
            item["options"] = _option_view(option[nested], nested)
        view[name] = item
    return view


def test_doc_fragment_documents_exactly_the_argument_spec():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert _option_view(documented, "suboptions") == _option_view(registry_credentials_argument_spec(), "options")


def test_every_secret_option_is_no_log():
    spec = registry_credentials_argument_spec()
    assert spec["auth_content"]["no_log"] is True
    suboptions = spec["registries"]["options"]
    assert suboptions["password"]["no_log"] is True
    assert suboptions["auth"]["no_log"] is True
    assert "no_log" not in spec["auth_file"]  # a path, not a secret


def _validate(params: dict):
    return ArgumentSpecValidator(registry_credentials_argument_spec()).validate(params)


def test_spec_accepts_the_documented_forms_and_collects_no_log_values():
    result = _validate(
        {
            "registries": [
                {"server": "quay.io", "username": "u", "password": SECRET},
                {"server": "r.example.com", "auth": b64("u:" + SECRET)},
            ],
            "auth_content": {"auths": {}},
        }
    )
    assert result.error_messages == []
    assert SECRET in result._no_log_values
    assert b64("u:" + SECRET) in result._no_log_values


@pytest.mark.parametrize(
    ("item", "needle"),
    [
        ({"username": "u", "password": "p"}, "server"),
        ({"server": "q", "username": "u"}, "parameters are required together"),
        ({"server": "q", "auth": "x", "username": "u", "password": "p"}, "mutually exclusive"),
    ],
)
def test_spec_refuses_incomplete_items(item, needle):
    result = _validate({"registries": [item]})
    assert result.error_messages
    assert needle in " ".join(result.error_messages)


# --- collecting entries ---------------------------------------------------------------------------------------------


def read_map(files: dict[str, str]):
    def read_text(path: str) -> str:
        if path not in files:
            raise FileNotFoundError(2, "No such file or directory", path)
        return files[path]

    return read_text


def test_nothing_given_collects_nothing():
    assert collect_registry_entries({}, read_text=read_map({})) == {}
    assert collect_registry_entries({"registries": [], "auth_content": ""}, read_text=read_map({})) == {}


def test_registries_are_built_like_kubectl():
    entries = collect_registry_entries(
        {"registries": [{"server": "quay.io", "username": "u", "password": "p", "email": "e"}]},
        read_text=read_map({}),
    )
    assert entries == {"quay.io": {"username": "u", "password": "p", "email": "e", "auth": b64("u:p")}}


def test_sources_apply_in_order_and_later_ones_win_per_key():
    auth_file = json.dumps(
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": b64("file:hub"), "email": "f@example.com"},
                "quay.io": {"auth": b64("file:quay"), "x-unknown": [1]},
                "file-only.io": {"username": "f", "password": "p"},
            },
            "psFormat": "ignored top-level fields are not entries",
        }
    )
    params = {
        "auth_file": "/home/u/.docker/config.json",
        "auth_content": {"auths": {"quay.io": {"auth": b64("content:quay")}, "content-only.io": {"auth": b64("c:p")}}},
        "registries": [{"server": "docker.io", "username": "reg", "password": "hub"}],
    }
    entries = collect_registry_entries(params, read_text=read_map({"/home/u/.docker/config.json": auth_file}))
    assert entries == {
        "docker.io": {"username": "reg", "password": "hub", "auth": b64("reg:hub")},
        "quay.io": {"auth": b64("content:quay")},
        "file-only.io": {"username": "f", "password": "p"},
        "content-only.io": {"auth": b64("c:p")},
    }


def test_auth_content_as_json_text():
    text = json.dumps({"auths": {"quay.io": {"auth": b64("u:p")}}})
    assert collect_registry_entries({"auth_content": text}, read_text=read_map({})) == {"quay.io": {"auth": b64("u:p")}}


@pytest.mark.parametrize(
    ("params", "files", "needles"),
    [
        ({"auth_file": "/missing"}, {}, ["auth_file /missing does not exist on the managed host", "podman auth.json"]),
        ({"auth_file": "/f"}, {"/f": "{nope"}, ["auth_file /f is not valid JSON"]),
        (
            {"auth_file": "/f"},
            {"/f": json.dumps({"auths": {"quay.io": {}}, "credsStore": "desktop"})},
            ['auth_file /f: entry "quay.io" holds no username and password', "credential helper, credsStore"],
        ),
        (
            {"auth_file": "/f"},
            {"/f": json.dumps({"auths": {"ghcr.io": {"identitytoken": SECRET}}})},
            ['entry "ghcr.io" holds no username and password'],
        ),
        (
            {"auth_file": "/f"},
            {"/f": json.dumps({"auths": {"quay.io/ns/app:v1": {"auth": b64("u:p")}}})},
            ["auth_file /f: registry key 'quay.io/ns/app:v1'", "not a tag"],
        ),
        ({"auth_content": {"auths": {"q": {"auth": b64(SECRET)}}}}, {}, ["auth_content: auths.q.auth", "no colon"]),
        ({"auth_content": 42}, {}, ["auth_content must be JSON text or a mapping"]),
        ({"registries": [{"server": "quay.io"}]}, {}, ["registries[0] (server quay.io) needs username and password"]),
        ({"registries": ["quay.io"]}, {}, ["registries[0] must be a mapping"]),
        ({"registries": [{"server": "quay.io/Org", "username": "u", "password": SECRET}]}, {}, ["upper-case"]),
        ({"registries": [{"server": "q.io", "username": "u", "password": ""}]}, {}, ["(server q.io)", "is empty"]),
        ({"registries": [{"server": "q.io", "auth": SECRET}]}, {}, ["(server q.io)", "not standard base64"]),
        (
            {"registries": [{"server": "q.io", "auth": b64("u:p"), "username": "u", "password": SECRET}]},
            {},
            ["either auth or username and password"],
        ),
        (
            {
                "registries": [
                    {"server": "docker.io", "username": "a", "password": SECRET},
                    {"server": "https://index.docker.io/v1/", "username": "b", "password": SECRET},
                ]
            },
            {},
            ["registries[0] (docker.io) and registries[1] (https://index.docker.io/v1/) name the same registry"],
        ),
    ],
)
def test_collect_errors_name_the_source_and_never_the_secret(params, files, needles):
    with pytest.raises(InvalidInputError) as caught:
        collect_registry_entries(params, read_text=read_map(files))
    message = str(caught.value)
    for needle in needles:
        assert needle in message
    assert SECRET not in message
    assert b64(SECRET) not in message


def test_registry_entries_from_list_labels_messages():
    with pytest.raises(InvalidInputError, match=r"credentials\[1\]"):
        registry_entries_from_list(
            [{"server": "a.io", "username": "u", "password": "p"}, {"server": "b.io"}], label="credentials"
        )


# --- the typed objects ----------------------------------------------------------------------------------------------


def no_file(path: str) -> str:
    raise AssertionError(f"no file is read here: {path}")


def test_the_source_options_are_the_spec_of_the_group():
    assert set(CREDENTIAL_SOURCE_OPTIONS) == set(registry_credentials_argument_spec())


def test_credentials_hold_every_secret_of_their_entries():
    params = {"registries": [{"server": "quay.io", "username": "robot", "password": "r0bot-Passw0rd"}]}
    credentials = RegistryCredentials.from_params(params, read_text=no_file)
    assert credentials.given
    assert list(credentials.entries) == ["quay.io"]
    assert {"r0bot-Passw0rd", b64("robot:r0bot-Passw0rd")} <= credentials.secret_values()


def test_no_option_is_no_credentials_and_reads_nothing():
    credentials = RegistryCredentials.from_params({"registries": None, "auth_file": ""}, read_text=no_file)
    assert credentials == RegistryCredentials.none()
    assert credentials.secret_values() == set()


def test_an_auth_file_with_no_entries_is_still_given():
    credentials = RegistryCredentials.from_params({"auth_file": "/f"}, read_text=read_map({"/f": '{"auths": {}}'}))
    assert credentials.given
    assert credentials.entries == {}


@pytest.mark.parametrize(
    ("remove", "refused"),
    [
        (["other.io", "quay.io/ns"], None),
        (["https://quay.io"], "https://quay.io"),
        (["https://index.docker.io/v1/", "x.io"], "https://index.docker.io/v1/"),
        (["https://quay.io", "index.docker.io"], "https://quay.io, index.docker.io"),
    ],
)
def test_a_key_both_given_and_removed_is_refused_in_any_spelling(remove, refused):
    params = {
        "registries": [
            {"server": "quay.io", "username": "u", "password": SECRET},
            {"server": "docker.io", "username": "u", "password": SECRET},
        ]
    }
    credentials = RegistryCredentials.from_params(params, read_text=no_file)
    if refused is None:
        credentials.refuse_removals(remove)
        return
    with pytest.raises(InvalidInputError) as caught:
        credentials.refuse_removals(remove)
    assert str(caught.value).startswith(f"registry {refused} is both given with credentials and listed")


PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("params", "used", "expected"),
    [
        ({}, True, RegistryTls()),
        ({"registry_ca_cert": "/ca.pem"}, True, RegistryTls(ca_data=PEM)),
        # not read when no check uses it, or when verification is off
        ({"registry_ca_cert": "/missing.pem"}, False, RegistryTls()),
        (
            {"registry_ca_cert": "/missing.pem", "registry_validate_certs": False},
            True,
            RegistryTls(validate_certs=False),
        ),
    ],
)
def test_registry_tls_reads_the_ca_only_when_a_check_uses_it(params, used, expected):
    assert RegistryTls.from_params(params, used=used, read_text=read_map({"/ca.pem": PEM})) == expected


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({}, "registry_ca_cert /ca.pem does not exist on the managed host; registry_ca_cert must be the path"),
        ({"/ca.pem": "not a certificate"}, "registry_ca_cert /ca.pem holds no PEM certificate"),
    ],
)
def test_a_bad_registry_ca_cert_is_named(files, needle):
    with pytest.raises(InvalidInputError) as caught:
        RegistryTls.from_params({"registry_ca_cert": "/ca.pem"}, used=True, read_text=read_map(files))
    assert needle in str(caught.value)
