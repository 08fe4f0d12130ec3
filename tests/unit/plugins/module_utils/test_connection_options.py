"""The connection option group: its argument spec and doc fragment, and ``ConnectionOptions.from_params``, the one
parse of the options (types, pairs, the timeout, ``K8S_AUTH_*`` fallbacks) before anything is read or connected."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.openshift_ops.images.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    CONNECTION_ENV_VARS,
    DEFAULT_REQUEST_TIMEOUT,
    ConnectionOptions,
    connection_argument_spec,
)


def test_argument_spec_matches_env_table_and_marks_secrets() -> None:
    spec = connection_argument_spec()
    assert set(spec) == set(CONNECTION_ENV_VARS)
    for option, variables in CONNECTION_ENV_VARS.items():
        function, names = spec[option]["fallback"]
        assert function.__name__ == "env_fallback"
        assert names == list(variables)
    assert spec["api_key"]["no_log"] is True
    assert spec["password"]["no_log"] is True
    assert spec["validate_certs"]["aliases"] == ["verify_ssl"]
    assert spec["ca_cert"]["aliases"] == ["ssl_ca_cert"]
    assert spec["client_cert"]["aliases"] == ["cert_file"]
    assert spec["client_key"]["aliases"] == ["key_file"]
    # A fresh dict each time: modules may extend it.
    spec["host"]["required"] = True
    assert "required" not in connection_argument_spec()["host"]


def test_doc_fragment_documents_exactly_the_argument_spec() -> None:
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = connection_argument_spec()
    assert set(documented) == set(spec)
    for option, rules in spec.items():
        doc = documented[option]
        assert doc["type"] == rules["type"], option
        assert doc.get("aliases", []) == rules.get("aliases", []), option
        assert doc.get("elements") == rules.get("elements"), option
        assert doc.get("default") == rules.get("default"), option
        text = " ".join(doc["description"])
        for variable in CONNECTION_ENV_VARS[option]:
            assert variable in text, (option, variable)


@pytest.mark.parametrize(
    ("environ", "option", "expected"),
    [
        ({"K8S_AUTH_HOST": "https://h:6443"}, "host", "https://h:6443"),
        ({"K8S_AUTH_API_KEY": "t"}, "api_key", "t"),
        ({"K8S_AUTH_VERIFY_SSL": "no"}, "validate_certs", False),
        ({"K8S_AUTH_VALIDATE_CERTS": "true", "K8S_AUTH_VERIFY_SSL": "no"}, "validate_certs", True),
        ({"K8S_AUTH_SSL_CA_CERT": "/ca.crt"}, "ca_cert", "/ca.crt"),
        ({"K8S_AUTH_CERT_FILE": "/c", "K8S_AUTH_KEY_FILE": "/k"}, "client_cert", "/c"),
        ({"K8S_AUTH_IMPERSONATE_GROUPS": "a, b,,c"}, "impersonate_groups", ("a", "b", "c")),
        ({"K8S_AUTH_REQUEST_TIMEOUT": "2.5"}, "request_timeout", 2.5),
        ({"K8S_AUTH_KUBECONFIG": "/k1:/k2"}, "kubeconfig", "/k1:/k2"),
        ({}, "request_timeout", DEFAULT_REQUEST_TIMEOUT),
    ],
)
def test_env_fallbacks(environ: dict[str, str], option: str, expected: Any) -> None:
    assert getattr(ConnectionOptions.from_params({}, environ), option) == expected


def test_explicit_option_beats_environment() -> None:
    options = ConnectionOptions.from_params(
        {"host": "https://opt", "validate_certs": True}, {"K8S_AUTH_HOST": "https://env"}
    )
    assert options.host == "https://opt"
    assert options.validate_certs is True


def test_an_option_set_to_null_falls_back_too() -> None:
    # the argument spec falls back only for options left out; a task may set one to null
    assert ConnectionOptions.from_params({"host": None}, {"K8S_AUTH_HOST": "https://env"}).host == "https://env"


def test_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "from-process")
    assert ConnectionOptions.from_params({}).context == "from-process"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"K8S_AUTH_VERIFY_SSL": "No", "K8S_AUTH_REQUEST_TIMEOUT": "7"},
        {"K8S_AUTH_VALIDATE_CERTS": "1", "K8S_AUTH_IMPERSONATE_USER": "u", "K8S_AUTH_IMPERSONATE_GROUPS": " a, b ,"},
        {"K8S_AUTH_SSL_CA_CERT": "~/ca.crt", "K8S_AUTH_CLIENT_CERT": "$CERTS/c", "K8S_AUTH_KEY_FILE": "$CERTS/k"},
        {"K8S_AUTH_KUBECONFIG": "~/a:~/b", "K8S_AUTH_USERNAME": "u", "K8S_AUTH_PASSWORD": "p", "K8S_AUTH_PROXY": ""},
    ],
)
def test_fallbacks_give_what_the_argument_spec_gives(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environ: dict[str, str]
) -> None:
    """A caller that is not a module gets the options a module gets from AnsibleModule's own fallbacks."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CERTS", str(tmp_path / "certs"))
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    validated = ArgumentSpecValidator(connection_argument_spec()).validate({})
    assert not validated.errors.errors
    from_module = ConnectionOptions.from_params(validated.validated_parameters, {})
    assert ConnectionOptions.from_params({}, environ) == from_module


@pytest.mark.parametrize(
    ("params", "environ", "message"),
    [
        ({"kubeconfig": 3}, {}, "kubeconfig must be a path"),
        ({"username": "u"}, {}, "username and password must be given together"),
        ({"client_cert": "/c"}, {}, "client_cert and client_key must be given together"),
        ({"api_key": "t", "username": "u", "password": "p"}, {}, "either api_key or username/password"),
        ({}, {"K8S_AUTH_VERIFY_SSL": "maybe"}, "K8S_AUTH_VALIDATE_CERTS/K8S_AUTH_VERIFY_SSL must be a boolean"),
        ({"request_timeout": 0}, {}, "option request_timeout must be more than 0"),
        ({}, {"K8S_AUTH_REQUEST_TIMEOUT": "soon"}, "K8S_AUTH_REQUEST_TIMEOUT must be a number"),
    ],
)
def test_bad_options_are_explained(params: dict[str, Any], environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ConnectionOptions.from_params(params, environ)


@pytest.mark.parametrize(
    ("params", "environ", "message"),
    [
        ({"kubeconfig": ["/a"]}, {}, r"^kubeconfig must be a path \(or paths separated by ':'\) or a kubeconfig "),
        ({"host": 6443}, {}, "^host must be a string, not int$"),
        ({"ca_cert": b"/ca"}, {}, "^ca_cert must be a path, not bytes$"),
        ({"validate_certs": "no"}, {}, r"^validate_certs must be a boolean \(true/false\), not str$"),
        ({"impersonate_groups": "a,b"}, {}, "^impersonate_groups must be a list of strings, not str$"),
        ({"request_timeout": "5"}, {}, "^request_timeout must be a number of seconds, not str$"),
        ({"request_timeout": math.inf}, {}, "^option request_timeout must be more than 0 seconds, got inf$"),
        ({}, {"K8S_AUTH_REQUEST_TIMEOUT": "nan"}, "^K8S_AUTH_REQUEST_TIMEOUT must be more than 0 seconds, got 'nan'$"),
        ({}, {"K8S_AUTH_REQUEST_TIMEOUT": "-1"}, "^K8S_AUTH_REQUEST_TIMEOUT must be more than 0 seconds, got '-1'$"),
    ],
)
def test_types_are_checked(params: dict[str, Any], environ: dict[str, str], message: str) -> None:
    """Options arrive with the argument spec's types; a caller that passes another type is told which."""
    with pytest.raises(InvalidInputError, match=message):
        ConnectionOptions.from_params(params, environ)


def test_typed_values_are_taken_as_they_are() -> None:
    options = ConnectionOptions.from_params(
        {
            "kubeconfig": {},
            "context": "",
            "host": "",
            "ca_cert": "/certs/$NOT_A_VARIABLE/ca.crt",  # the argument spec expanded it already
            "impersonate_groups": [" devs ", "", "ops"],
            "request_timeout": 5,
        },
        {},
    )
    assert options.kubeconfig == {}
    assert (options.context, options.host) == (None, None)
    assert options.ca_cert == "/certs/$NOT_A_VARIABLE/ca.crt"
    assert options.impersonate_groups == ("devs", "ops")
    assert options.request_timeout == 5.0
    assert ConnectionOptions.from_params({"kubeconfig": "", "impersonate_groups": [" "]}, {}) == ConnectionOptions()


def test_parsing_reads_no_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    options = ConnectionOptions.from_params(
        {"kubeconfig": missing, "ca_cert": missing, "client_cert": missing, "client_key": missing}, {}
    )
    assert (options.kubeconfig, options.ca_cert, options.client_key) == (missing, missing, missing)
    assert options.has_credentials


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, False),
        ({"host": "https://h", "validate_certs": False}, False),
        ({"api_key": "t"}, True),
        ({"username": "u", "password": "p"}, True),
        ({"client_cert": "/c", "client_key": "/k"}, True),
    ],
)
def test_has_credentials(params: dict[str, Any], expected: bool) -> None:
    assert ConnectionOptions.from_params(params, {}).has_credentials is expected


def test_repr_hides_secrets() -> None:
    options = ConnectionOptions.from_params({"api_key": "given-secret", "username": None, "host": "https://h"}, {})
    assert "given-secret" not in repr(options)
    assert "api_key=<hidden>" in repr(options) and "host='https://h'" in repr(options)
    basic = ConnectionOptions.from_params({"username": "dev", "password": "pw-456"}, {})
    assert "pw-456" not in repr(basic) and "username='dev'" in repr(basic)
