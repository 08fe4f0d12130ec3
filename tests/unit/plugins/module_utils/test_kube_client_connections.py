"""The API client shared between threads, against a loopback server: a connection per request in flight, given
back for the next request and closed with the client; an exec credential refused (or expiring) under many requests
at once is fetched again once."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import ExecCredential
from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import (
    Answer,
    RecordingRegistry,
    Seen,
)
from ansible_collections.openshift_ops.images.tests.unit.support.watch_server import JSON, status

PATH = "/api/v1/namespaces/default"
TOKEN = "static-token"
SIDE_BY_SIDE = 6


def answering(latency: float, token: str = TOKEN, *, slow: float = 0.0) -> Callable[[Seen], Answer]:
    """A route: ``{}`` after ``latency`` seconds (``slow`` for ``/slow``) to ``Bearer <token>``, 401 otherwise."""

    def route(seen: Seen) -> Answer:
        if seen.headers.get("Authorization") != f"Bearer {token}":
            return status(401, "Unauthorized", "Unauthorized")
        time.sleep(slow if seen.path == "/slow" else latency)
        return 200, JSON, b"{}"

    return route


@contextmanager
def client_of(
    route: Callable[[Seen], Answer],
    *,
    token: str,
    token_expires_at: datetime | None = None,
    refresh_credentials: Callable[[], ExecCredential] | None = None,
) -> Iterator[tuple[KubeClient, list[http.client.HTTPConnection]]]:
    """A client of a keep-alive server answering with ``route``, and every connection it made."""
    with RecordingRegistry(route, keep_alive=True) as server:
        config = ClusterConfig(
            server=server.base,
            token=token,
            token_expires_at=token_expires_at,
            refresh_credentials=refresh_credentials,
        )
        client = KubeClient(config, sleep=lambda _delay: None)
        made: list[http.client.HTTPConnection] = []
        factory = client.connection_factory

        def recorded() -> http.client.HTTPConnection:
            made.append(factory())
            return made[-1]

        client.connection_factory = recorded
        with client:
            yield client, made


def side_by_side(client: KubeClient, count: int = SIDE_BY_SIDE) -> list[dict | None]:
    """``count`` GETs sent at the same moment from as many threads."""
    start = threading.Barrier(count)

    def get(_index: int) -> dict | None:
        start.wait()
        return client.get(PATH)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(get, range(count)))


def test_requests_one_after_another_share_one_connection() -> None:
    with client_of(answering(0.0), token=TOKEN) as (client, made):
        for _request in range(5):
            client.get(PATH)
        assert (client.connections_opened, client.requests_sent, len(made)) == (1, 5, 1)


def test_requests_side_by_side_each_have_a_connection_given_back_for_the_next() -> None:
    with client_of(answering(0.2), token=TOKEN) as (client, made):
        assert side_by_side(client) == [{}] * SIDE_BY_SIDE
        assert client.connections_opened == SIDE_BY_SIDE
        assert side_by_side(client) == [{}] * SIDE_BY_SIDE
        client.get(PATH)
        assert (client.connections_opened, client.requests_sent, len(made)) == (SIDE_BY_SIDE, 13, SIDE_BY_SIDE)


def test_close_closes_the_idle_connections_and_one_in_flight_once_answered() -> None:
    with client_of(answering(0.0, slow=0.5), token=TOKEN) as (client, made):
        client.get(PATH)
        in_flight = threading.Thread(target=client.get, args=("/slow",))
        in_flight.start()
        while client.requests_sent < 2:  # the slow request is on its way on the one connection: none is idle
            time.sleep(0.01)
        client.get(PATH)  # a second connection, idle after this
        client.close()
        assert made[1].sock is None
        assert made[0].sock is not None  # still reading its answer
        in_flight.join()
        assert made[0].sock is None
        client.get(PATH)
        assert client.connections_opened == 3


def test_a_credential_refused_under_requests_side_by_side_is_fetched_again_once() -> None:
    fetched: list[datetime] = []

    def exec_plugin() -> ExecCredential:
        fetched.append(datetime.now(UTC))
        time.sleep(0.1)  # the other threads meet the 401 while it runs
        return ExecCredential(token="new")

    with client_of(answering(0.1, token="new"), token="old", refresh_credentials=exec_plugin) as (client, _made):
        assert side_by_side(client) == [{}] * SIDE_BY_SIDE
    assert len(fetched) == 1


def test_an_expiring_credential_is_fetched_again_once_for_every_thread() -> None:
    fetched: list[datetime] = []

    def exec_plugin() -> ExecCredential:
        fetched.append(datetime.now(UTC))
        time.sleep(0.1)
        return ExecCredential(token="new", expires_at=datetime.now(UTC) + timedelta(hours=1))

    expired = datetime.now(UTC) - timedelta(seconds=1)
    with client_of(
        answering(0.0, token="new"), token="old", token_expires_at=expired, refresh_credentials=exec_plugin
    ) as (client, _made):
        assert side_by_side(client) == [{}] * SIDE_BY_SIDE
    assert len(fetched) == 1
