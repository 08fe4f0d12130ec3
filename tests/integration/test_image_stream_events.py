"""The event source ``image_stream_events`` run by the real ansible-rulebook against the sandbox: images pushed to the
sandbox registry and imported by the image API server give one event each, in order; a restart of the image API
server in the middle loses nothing and repeats nothing; a user with ``view`` in one project sees that project only;
and the shipped rulebook ``promote_new_images`` promotes each new image once.

Each test runs ``ansible-rulebook`` in a process of its own, as a user would, and reads what its rules print.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from .sandbox_support import (
    REPO_ROOT,
    AuditLog,
    Images,
    Kube,
    Sandbox,
    temporary_role_binding,
    wait_for_project_setup,
)

USER = "sandbox-user"
EVENT_LINE = re.compile(
    r"EVENT\|(?P<change>[a-z_]+)\|(?P<namespace>[^|]*)\|(?P<stream>[^|]*)\|(?P<tag>[^|]*)\|"
    r"(?P<previous>[^|]*)\|(?P<image>[^|\s'\"]*)"
)
# Every event the source sends, one line each, for the tests to read.
RECORDING_RULEBOOK = [
    {
        "name": "Record image stream events",
        "hosts": "localhost",
        "sources": [{"openshift_ops.images.image_stream_events": {"namespaces": "{{ watched_namespaces }}"}}],
        "rules": [
            {
                "name": "every event",
                "condition": "event.image_stream_tag is defined",
                "action": {
                    "debug": {
                        "msg": "EVENT|{{ event.image_stream_tag.change }}|{{ event.image_stream_tag.namespace }}|"
                        "{{ event.image_stream_tag.image_stream }}|{{ event.image_stream_tag.tag }}|"
                        "{{ event.image_stream_tag.previous_image }}|{{ event.image_stream_tag.image }}"
                    }
                },
            }
        ],
    }
]


@dataclass(frozen=True)
class Event:
    change: str
    namespace: str
    stream: str
    tag: str
    previous: str
    image: str


@dataclass
class Rulebook:
    """One ansible-rulebook process and the output it wrote so far."""

    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[Event]:
        return [Event(*match.groups()) for match in EVENT_LINE.finditer(self.output())]

    def wait_for(self, done: Callable[[list[Event]], bool], *, timeout: float = 60.0, what: str) -> list[Event]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            if done(events):
                return events
            if self.process.poll() is not None:
                raise AssertionError(
                    f"ansible-rulebook ended (rc={self.process.returncode}) before {what}:\n" + self.output()[-4000:]
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:g} s; events: {events}\n" + self.output()[-4000:])
            time.sleep(0.2)


def rulebook_command() -> str:
    found = Path(sys.executable).with_name("ansible-rulebook")
    if not found.exists():
        pytest.fail("ansible-rulebook is not in the venv: run `make venv` (requirements-dev.txt pins it)")
    if shutil.which("java") is None:
        pytest.fail("ansible-rulebook needs a Java 17 runtime: run `make system-packages`")
    return str(found)


@contextlib.contextmanager
def rulebook(
    directory: Path, document: list[dict[str, Any]] | str, *, variables: dict[str, Any], kubeconfig: str
) -> Iterator[Rulebook]:
    """ansible-rulebook running ``document`` (a rulebook, or the name of one in the collection) as the user of
    ``kubeconfig``, stopped afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(document, str):
        target = document
    else:
        path = directory / "rulebook.yml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        target = str(path)
    inventory = directory / "inventory.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    variables_file = directory / "vars.yml"
    variables_file.write_text(yaml.safe_dump(variables), encoding="utf-8")
    collections = REPO_ROOT / ".build" / "collections"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("K8S_AUTH_", "SANDBOX_")) and key != "KUBECONFIG"
    }
    environment |= {
        "K8S_AUTH_KUBECONFIG": kubeconfig,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "PATH": f"{Path(sys.executable).parent}:{environment.get('PATH', '')}",
        "HOME": str(directory),
        "PYTHONUNBUFFERED": "1",  # the tests read the rules' output as it comes
    }
    log = directory / "rulebook.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [
                rulebook_command(),
                "--verbose",
                "--rulebook",
                target,
                "--inventory",
                str(inventory),
                "--vars",
                str(variables_file),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            cwd=directory,
        )
    running = Rulebook(process, log)
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def user_kubeconfig(sandbox: Sandbox) -> str:
    return sandbox.user_kubeconfig


def wait_until_watching(images: Images, namespace: str, running: Rulebook) -> None:
    """The source reports nothing that exists when it lists: wait for its list (its log says so at --verbose), then
    a first tag imported after it must give an event."""
    deadline = time.monotonic() + 60
    while "listed " not in running.output():
        if running.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("the source never listed the image streams:\n" + running.output()[-4000:])
        time.sleep(0.2)
    images.import_tag(namespace, "ready", "v1")
    running.wait_for(lambda events: any(event.stream == "ready" for event in events), what="the first event")


@contextlib.contextmanager
def recording(sandbox: Sandbox, kube: Kube, images: Images, namespace: str, tmp_path: Path) -> Iterator[Rulebook]:
    """The recording rulebook watching ``namespace`` as a user with ``view`` there, once it is watching."""
    with (
        temporary_role_binding(kube, namespace, role="view", user=USER),
        rulebook(
            tmp_path / "rulebook",
            RECORDING_RULEBOOK,
            variables={"watched_namespaces": [namespace]},
            kubeconfig=user_kubeconfig(sandbox),
        ) as running,
    ):
        wait_until_watching(images, namespace, running)
        yield running


def test_each_import_gives_one_event_in_order(
    *, sandbox: Sandbox, kube: Kube, images: Images, namespace: str, tmp_path: Path
) -> None:
    with recording(sandbox, kube, images, namespace, tmp_path) as running:
        digests = [images.import_tag(namespace, "app", "latest") for _push in range(5)]
        events = running.wait_for(
            lambda seen: len([event for event in seen if event.stream == "app"]) >= 5, what="five events of app"
        )
        time.sleep(3)  # nothing more may come
        events = [event for event in running.events() if event.stream == "app"]
    assert [(event.change, event.image) for event in events] == [("tag_added", digests[0])] + [
        ("image_changed", digest) for digest in digests[1:]
    ]
    assert [event.previous for event in events[1:]] == digests[:-1]
    assert sandbox.registry_password not in running.output()


def test_a_restart_of_the_image_api_server_loses_nothing_and_repeats_nothing(
    *, sandbox: Sandbox, kube: Kube, images: Images, namespace: str, tmp_path: Path
) -> None:
    with recording(sandbox, kube, images, namespace, tmp_path) as running:
        before = [images.import_tag(namespace, "app", "latest") for _push in range(2)]
        running.wait_for(lambda seen: len([e for e in seen if e.stream == "app"]) >= 2, what="two events of app")
        restart_image_api_server()
        after = [images.import_tag(namespace, "app", "latest") for _push in range(3)]
        running.wait_for(
            lambda seen: len([e for e in seen if e.stream == "app"]) >= 5, what="five events of app", timeout=120
        )
        time.sleep(3)
        images_seen = [event.image for event in running.events() if event.stream == "app"]
    assert images_seen == before + after


def test_a_user_with_view_in_one_project_sees_only_that_project(
    *, sandbox: Sandbox, kube: Kube, images: Images, namespace: str, other_namespace: str, tmp_path: Path
) -> None:
    with recording(sandbox, kube, images, namespace, tmp_path) as running:
        images.import_tag(other_namespace, "app", "latest")
        mine = images.import_tag(namespace, "app", "latest")
        running.wait_for(lambda seen: any(e.stream == "app" for e in seen), what="the event of app")
        time.sleep(3)
        events = running.events()
    assert {event.namespace for event in events} == {namespace}
    assert [event.image for event in events if event.stream == "app"] == [mine]


def test_promote_new_images_promotes_each_new_image_once(
    *,
    sandbox: Sandbox,
    kube: Kube,
    images: Images,
    namespace: str,
    other_namespace: str,
    audit: AuditLog,
    tmp_path: Path,
) -> None:
    with (
        temporary_role_binding(kube, namespace, role="view", user=USER),
        temporary_role_binding(kube, other_namespace, role="edit", user=USER),
    ):
        mark = audit.mark()
        with rulebook(
            tmp_path / "rulebook",
            "openshift_ops.images.promote_new_images",
            variables={
                "promote_source_namespace": namespace,
                "promote_source_stream": "app",
                "promote_source_tag": "latest",
                "promote_targets": [f"{other_namespace}/app:stable"],
            },
            kubeconfig=user_kubeconfig(sandbox),
        ) as running:
            time.sleep(5)
            digest = images.import_tag(namespace, "app", "latest")
            kube.wait_for(
                lambda: promoted_image(kube, other_namespace) == digest,
                timeout=120,
                what=f"{other_namespace}/app:stable to point at {digest}",
            )
            time.sleep(5)
            output = running.output()
        writes = [
            event
            for event in audit.writes(since=mark, resource="imagestreams", namespace=other_namespace)
            if event.get("user", {}).get("username") == USER
        ]
    assert len(writes) == 1, [(event["verb"], event.get("requestURI")) for event in writes]
    assert sandbox.registry_password not in output


def promoted_image(kube: Kube, namespace: str) -> str | None:
    stream = kube.get(f"/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams/app") or {}
    for tag in (stream.get("status") or {}).get("tags") or []:
        if tag.get("tag") == "stable" and tag.get("items"):
            return tag["items"][0].get("image")
    return None


def restart_image_api_server() -> None:
    sys.path.insert(0, str(REPO_ROOT / "tests" / "sandbox"))
    __import__("sandbox").restart_openshift_apiserver()


@pytest.fixture
def other_namespace(kube: Kube, namespace: str) -> Iterator[str]:
    name = f"{namespace[:50]}-b"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    wait_for_project_setup(kube, name)
    try:
        yield name
    finally:
        kube.delete(f"/api/v1/namespaces/{name}")
