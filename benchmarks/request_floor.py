# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet runbook's no-change reads cost on their own: the GETs our tasks send to each host's cluster, by a
bare client (``http.client``), with no Ansible and no module around them.

A ``debug`` twin sends no request, so the debug floor leaves them out; no tool that checks a cluster can. Each task
of each host runs in a fresh Ansible worker, so each item here builds its TLS context from the host's connection
(CA, and client certificate or token) and opens its own connection, as any client in a fresh process must. Hosts go
through a pool of ``forks`` processes one task at a time, as the linear strategy schedules them."""

from __future__ import annotations

import base64
import http.client
import multiprocessing
import os
import ssl
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

PULL_SECRET = "/api/v1/namespaces/openshift-config/secrets/pull-secret"


@dataclass(frozen=True)
class Reach:
    """How a host reaches its cluster: the API server, its CA (PEM) and a token or a client certificate and key."""

    server: str
    ca_pem: str
    token: str | None = None
    certificate_pem: str | None = None
    key_pem: str | None = None


def reach_from_kubeconfig(path: str, context_name: str | None = None) -> Reach:
    """The reach a kubeconfig's context gives (embedded data, as the sandbox writes it)."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    context_name = context_name or config["current-context"]
    context = next(item["context"] for item in config["contexts"] if item["name"] == context_name)
    cluster = next(item["cluster"] for item in config["clusters"] if item["name"] == context["cluster"])
    user = next(item["user"] for item in config["users"] if item["name"] == context["user"])

    def decoded(field: str) -> str | None:
        return base64.b64decode(user[field]).decode() if field in user else None

    return Reach(
        server=cluster["server"],
        ca_pem=base64.b64decode(cluster["certificate-authority-data"]).decode(),
        token=user.get("token"),
        certificate_pem=decoded("client-certificate-data"),
        key_pem=decoded("client-key-data"),
    )


def host_tasks(reach: Reach, namespaces: tuple[str, ...], secret: str) -> list[list[tuple[Reach, list[str]]]]:
    """The host's no-change reads, task by task; each task a list of items, each item its connection and paths:
    the project pull secrets (the secret and the service account it is linked to, per project), then the global
    pull secret."""
    project_items = [
        (reach, [f"/api/v1/namespaces/{ns}/secrets/{secret}", f"/api/v1/namespaces/{ns}/serviceaccounts/default"])
        for ns in namespaces
    ]
    return [project_items, [(reach, [PULL_SECRET])]]


def tls_context(reach: Reach) -> ssl.SSLContext:
    """A new TLS context that trusts the cluster's CA, with the client certificate when the reach has one."""
    context = ssl.create_default_context(cadata=reach.ca_pem)
    if reach.certificate_pem and reach.key_pem:
        with tempfile.TemporaryDirectory() as directory:
            certificate, key = Path(directory, "tls.crt"), Path(directory, "tls.key")
            certificate.write_text(reach.certificate_pem, encoding="utf-8")
            key.touch(mode=0o600)
            key.write_text(reach.key_pem, encoding="utf-8")
            context.load_cert_chain(certificate, key)
    return context


def read_item(item: tuple[Reach, list[str]]) -> None:
    """One item of a task as a fresh worker sends it: a new TLS context and connection, then its GETs."""
    reach, paths = item
    server = urlsplit(reach.server)
    connection = http.client.HTTPSConnection(server.hostname or "", server.port or 443, context=tls_context(reach))
    headers = {"Accept": "application/json"}
    if reach.token:
        headers["Authorization"] = f"Bearer {reach.token}"
    try:
        for path in paths:
            connection.request("GET", path, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"GET {path}: {answer.status} {body[:200]!r}")
    finally:
        connection.close()


def _read_items(items: list[tuple[Reach, list[str]]]) -> None:
    for item in items:
        read_item(item)


def fleet_reads(hosts: list[list[list[tuple[Reach, list[str]]]]], *, forks: int, rounds: int = 3) -> dict[str, Any]:
    """Seconds for every host's reads (``host_tasks`` of each), ``forks`` hosts at a time and one task after the
    other: median and minimum over ``rounds``, after one untimed round."""
    tasks = max(len(host) for host in hosts)
    timings = []
    with multiprocessing.get_context("fork").Pool(forks) as pool:
        for round_number in range(rounds + 1):
            started = time.perf_counter()
            for task in range(tasks):
                pool.map(_read_items, [host[task] for host in hosts if task < len(host)], chunksize=1)
            if round_number:
                timings.append(time.perf_counter() - started)
    return {
        "hosts": len(hosts),
        "forks": forks,
        "requests": sum(len(paths) for host in hosts for task in host for _reach, paths in task),
        "connections": sum(len(task) for host in hosts for task in host),
        "median": statistics.median(timings),
        "min": min(timings),
        "n": len(timings),
        "cpus": os.cpu_count(),
    }
