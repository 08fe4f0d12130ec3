# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the 500-tag task's writes cost the sandbox's servers alone: the same PUTs of the same image streams sent by a
bare client (``http.client``, kept-alive connections, as many at once as ``image_tag`` sends), with no Ansible, no
planning and no reads timed. No client can write those streams faster than this, so it bounds from below what any
tool's 500-tag task can take on this machine."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from request_floor import reach_from_kubeconfig, tls_context


class BareClient:
    """Bearer-token JSON requests to one API server, a kept-alive connection per thread."""

    def __init__(self, kubeconfig: str) -> None:
        reach = reach_from_kubeconfig(kubeconfig)
        server = urlsplit(reach.server)
        self._host, self._port = server.hostname or "", server.port or 443
        self._context = tls_context(reach)
        self._headers = {
            "Authorization": f"Bearer {reach.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self._local = threading.local()

    def send(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        if not hasattr(self._local, "connection"):
            self._local.connection = http.client.HTTPSConnection(self._host, self._port, context=self._context)
        connection = self._local.connection
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=self._headers)
        answer = connection.getresponse()
        data = answer.read()
        if answer.status >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status} {data[:200]!r}")
        return json.loads(data)


def _retagged(stream: dict[str, Any], source: str) -> dict[str, Any]:
    tags = [{**tag, "from": {**tag["from"], "name": source}} for tag in stream["spec"].get("tags") or []]
    return {**stream, "spec": {**stream["spec"], "tags": tags}}


def bare_writes(
    kubeconfig: str, namespace: str, streams: list[str], sources: tuple[str, str], *, workers: int, rounds: int
) -> dict[str, Any]:
    """Seconds for one PUT of each of ``streams`` (whose spec tags come from ``sources[0]`` or ``[1]``), switching
    every tag to the other source as the task does, ``workers`` at a time: median and minimum over ``rounds``,
    after one untimed round that opens the connections."""
    client = BareClient(kubeconfig)
    base = f"/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams"
    timings = []
    with ThreadPoolExecutor(workers) as pool:
        for round_number in range(rounds + 1):
            current = list(pool.map(lambda name: client.send("GET", f"{base}/{name}"), streams))
            in_use = {tag["from"]["name"] for stream in current for tag in stream["spec"].get("tags") or []}
            target = sources[1] if sources[0] in in_use else sources[0]
            bodies = [_retagged(stream, target) for stream in current]
            started = time.perf_counter()
            list(pool.map(lambda body: client.send("PUT", f"{base}/{body['metadata']['name']}", body), bodies))
            if round_number:
                timings.append(time.perf_counter() - started)
    return {
        "streams": len(streams),
        "workers": workers,
        "median": statistics.median(timings),
        "min": min(timings),
        "n": len(timings),
    }
