"""Unit tests of the ``openshift_ops.images.dockerconfigjson`` filter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_ops.images.plugins.filter import dockerconfigjson as plugin
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

dockerconfigjson = plugin.FilterModule().filters()["dockerconfigjson"]
SECRET = "pw-S3CRET<&>"
REPO = Path(__file__).resolve().parents[4]


def test_list_of_credentials():
    document = dockerconfigjson(
        [
            {"server": "quay.io", "username": "u", "password": "p", "email": "e@x"},
            {"server": "r.example.com:5000", "auth": b64("a:b")},
        ]
    )
    assert document == {
        "auths": {
            "quay.io": {"username": "u", "password": "p", "email": "e@x", "auth": b64("u:p")},
            "r.example.com:5000": {"auth": b64("a:b")},
        }
    }


def test_single_credential_and_server_keyed_mapping_give_the_same_document():
    single = dockerconfigjson({"server": "quay.io", "username": "u", "password": "p"})
    keyed = dockerconfigjson({"quay.io": {"username": "u", "password": "p"}})
    assert single == keyed == {"auths": {"quay.io": {"username": "u", "password": "p", "auth": b64("u:p")}}}


def test_a_registry_called_server_in_the_keyed_form():
    assert dockerconfigjson({"server": {"username": "u", "password": "p"}})["auths"]["server"]["auth"] == b64("u:p")


def test_as_json_is_kubectl_compact_json():
    text = dockerconfigjson([{"server": "quay.io", "username": "u", "password": SECRET}], as_json=True)
    assert isinstance(text, str)
    auth = b64("u:" + SECRET)
    assert (
        text
        == '{"auths":{"quay.io":{"username":"u","password":"pw-S3CRET\\u003c\\u0026\\u003e","auth":"' + auth + '"}}}'
    )
    assert json.loads(text)["auths"]["quay.io"]["password"] == SECRET


@pytest.mark.parametrize(
    ("credentials", "needle"),
    [
        ("quay.io", "expects a list"),
        (None, "expects a list"),
        ([{"server": "quay.io", "username": "u"}], "credentials[0] (server quay.io)"),
        ([{"server": "quay.io", "password": SECRET}], "username is required"),
        ([{"server": "quay.io/x:tag", "username": "u", "password": SECRET}], "not a tag"),
        ([{"server": "q.io", "auth": SECRET}], "not standard base64"),
        ({"quay.io": SECRET}, "must be a dictionary"),
        (
            [
                {"server": "docker.io", "username": "u", "password": SECRET},
                {"server": "https://index.docker.io/v1/", "username": "u", "password": SECRET},
            ],
            "name the same registry",
        ),
    ],
)
def test_errors_are_filter_errors_without_secrets(credentials, needle):
    with pytest.raises(AnsibleFilterError) as caught:
        dockerconfigjson(credentials)
    assert needle in str(caught.value)
    assert str(caught.value).startswith("dockerconfigjson: ")
    assert SECRET not in str(caught.value)


def test_documentation_parses():
    for text in (plugin.DOCUMENTATION, plugin.EXAMPLES, plugin.RETURN):
        assert yaml.safe_load(text)
    assert set(yaml.safe_load(plugin.DOCUMENTATION)["options"]) == {"_input", "as_json"}


def test_filter_works_by_its_fqcn_in_ansible():
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    }
    template = (
        "{{ [{'server': 'quay.io', 'username': 'u', 'password': 'p'}]"
        " | openshift_ops.images.dockerconfigjson(as_json=true) }}"
    )
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible"),
            "localhost",
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={template}",
            "-o",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert b64("u:p") in completed.stdout
