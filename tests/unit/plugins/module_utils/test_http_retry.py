"""When a failed request is sent again: the API client's rule (reads and writes told apart), the registry check's
short rule, backoff, ``Retry-After``, and what a transport exception means for retrying. Pure: no server."""

from __future__ import annotations

import http.client
import ssl
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._http.retry import (
    BACKOFF_CAP,
    RETRY_AFTER_CAP,
    backoff_delay,
    classify_failure,
    parse_retry_after,
    retry_delay,
    short_retry_delay,
    write_outcome_unknown,
)
from ansible_collections.openshift_ops.images.tests.unit.support.certificates import certificate_error


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("3", 3.0), (" 0 ", 0.0), ("1.5", 1.5), ("-1", None), ("Wed, 21 Oct 2015 07:28:00 GMT", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


@given(st.integers(min_value=1, max_value=50), st.floats(min_value=0, max_value=0.999999))
def test_backoff_is_bounded_and_jittered(attempt: int, jitter: float) -> None:
    delay = backoff_delay(attempt, jitter)
    assert 0 < delay <= BACKOFF_CAP
    assert delay >= backoff_delay(attempt, 0.0)
    assert backoff_delay(attempt + 1, jitter) >= delay or delay >= BACKOFF_CAP / 2


def test_backoff_grows() -> None:
    assert [backoff_delay(n, 0.0) for n in (1, 2, 3)] == [0.125, 0.25, 0.5]


@pytest.mark.parametrize(
    ("kwargs", "retried"),
    [
        ({"method": "GET", "failure": "response"}, True),
        ({"method": "POST", "failure": "response"}, False),
        ({"method": "POST", "failure": "connect"}, True),
        ({"method": "PUT", "failure": "send"}, True),
        ({"method": "GET", "failure": "tls"}, False),
        ({"method": "GET", "failure": "timeout", "phase": "response"}, True),
        ({"method": "GET", "failure": "timeout", "phase": "response", "attempt": 2}, False),
        ({"method": "PUT", "failure": "timeout", "phase": "response"}, False),
        ({"method": "PUT", "failure": "timeout", "phase": "connect"}, True),
        ({"method": "POST", "failure": "response", "safe": True}, True),
        ({"method": "POST", "status": 429}, True),
        ({"method": "PUT", "status": 503}, True),
        ({"method": "GET", "status": 500}, True),
        ({"method": "GET", "status": 502}, True),
        ({"method": "GET", "status": 504}, True),
        ({"method": "GET", "status": 501}, False),
        ({"method": "GET", "status": 500, "retry_after": "1"}, True),
        ({"method": "POST", "status": 500, "retry_after": "1"}, False),
        ({"method": "PUT", "status": 502}, False),
        ({"method": "POST", "status": 500, "safe": True}, True),
        ({"method": "GET", "status": 404}, False),
        ({"method": "GET", "status": 409}, False),
        ({"method": "GET"}, False),
        ({"method": "GET", "failure": "response", "attempt": 4}, False),
        ({"method": "GET", "status": 429, "attempt": 4}, False),
    ],
)
def test_retry_delay_decisions(kwargs: dict[str, Any], retried: bool) -> None:
    kwargs.setdefault("attempt", 1)
    assert (retry_delay(jitter=0.5, **kwargs) is not None) is retried


@pytest.mark.parametrize(
    ("kwargs", "unknown"),
    [
        ({"safe": False, "failure": "response"}, True),
        ({"safe": False, "failure": "timeout", "phase": "response"}, True),
        ({"safe": False, "failure": "timeout", "phase": "connect"}, False),
        ({"safe": False, "failure": "connect"}, False),
        ({"safe": False, "failure": "send"}, False),
        ({"safe": False, "failure": "tls"}, False),
        ({"safe": False, "status": 500}, True),
        ({"safe": False, "status": 502}, True),
        ({"safe": False, "status": 504}, True),
        ({"safe": False, "status": 503}, False),
        ({"safe": False, "status": 429}, False),
        ({"safe": False, "status": 409}, False),
        ({"safe": True, "failure": "response"}, False),
        ({"safe": True, "status": 500}, False),
    ],
)
def test_write_outcome_unknown(kwargs: dict[str, Any], unknown: bool) -> None:
    assert write_outcome_unknown(**kwargs) is unknown


def test_retry_after_is_honoured_and_capped() -> None:
    assert retry_delay(method="GET", attempt=1, jitter=0.5, status=429, retry_after="2") == 2.0
    assert retry_delay(method="GET", attempt=1, jitter=0.5, status=503, retry_after="3600") == RETRY_AFTER_CAP
    assert retry_delay(method="GET", attempt=2, jitter=0.0, status=429) == backoff_delay(2, 0.0)


@pytest.mark.parametrize(
    ("error", "phase", "kind"),
    [
        (certificate_error(), "connect", "tls"),
        (ssl.SSLError(1, "handshake"), "connect", "tls"),
        (ssl.SSLError(1, "bad record"), "response", "response"),
        (TimeoutError(), "connect", "timeout"),
        (TimeoutError(), "response", "timeout"),
        (ConnectionRefusedError(), "connect", "connect"),
        (BrokenPipeError(), "send", "send"),
        (http.client.RemoteDisconnected("closed"), "response", "response"),
    ],
)
def test_classify_failure(error: BaseException, phase: Any, kind: str) -> None:
    assert classify_failure(error, phase=phase) == kind


# ---------------------------------------------------------------------------------------------------------------
# The registry check's short rule


@pytest.mark.parametrize(
    ("kwargs", "delay"),
    [
        ({"attempt": 1}, 0.25),  # refused, reset or cut: backoff without jitter
        ({"attempt": 2}, 0.5),
        ({"attempt": 3}, None),  # the third attempt was the last
        ({"attempt": 1, "status": 429}, 0.25),
        ({"attempt": 1, "status": 502}, 0.25),
        ({"attempt": 2, "status": 503}, 0.5),
        ({"attempt": 1, "status": 504}, 0.25),
        ({"attempt": 1, "status": 429, "retry_after": "2"}, 2.0),
        ({"attempt": 1, "status": 503, "retry_after": "3600"}, RETRY_AFTER_CAP),
        ({"attempt": 1, "status": 503, "retry_after": "soon"}, 0.25),
        ({"attempt": 1, "status": 503, "retry_after": "nan"}, 0.25),
        ({"attempt": 3, "status": 503, "retry_after": "1"}, None),
        ({"attempt": 1, "status": 500}, None),  # a registry's 500 is its answer, not an overload
        ({"attempt": 1, "status": 401}, None),
        ({"attempt": 1, "status": 200}, None),
        ({"attempt": 1, "max_attempts": 1}, None),
    ],
)
def test_short_retry_delay(kwargs: dict[str, Any], delay: float | None) -> None:
    assert short_retry_delay(**kwargs) == delay
