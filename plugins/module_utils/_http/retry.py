# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a failed HTTP request is sent again, and after how long: pure decisions, no I/O.

Two rules share the backoff and ``Retry-After`` handling: ``retry_delay`` for the API client, which tells reads
from writes and never sends a write again blindly, and ``short_retry_delay`` for the registry check, which sends a
handful of GETs and gives up sooner.
"""

from __future__ import annotations

import ssl
from typing import Literal

FailureKind = Literal["tls", "timeout", "connect", "send", "response"]
Phase = Literal["connect", "send", "response"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ATTEMPTS = 4
# A timed-out request already cost request_timeout: tried twice at most.
TIMEOUT_ATTEMPTS = 2
SAFE_RETRY_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0
RETRY_AFTER_CAP = 10.0
# The registry check: each GET is tried this often when the connection breaks or one of these statuses comes back.
SHORT_ATTEMPTS = 3
SHORT_RETRY_STATUSES = frozenset({429, 502, 503, 504})


def classify_failure(error: BaseException, *, phase: Phase) -> FailureKind:
    """What a transport exception means for retrying: TLS verification never heals by itself."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return "tls"
    if phase == "connect" and isinstance(error, ssl.SSLError):
        return "tls"
    if isinstance(error, TimeoutError):
        return "timeout"
    return phase


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the API server sends whole seconds); ``None`` when absent or odd."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def backoff_delay(attempt: int, jitter: float) -> float:
    """Exponential backoff for retry number ``attempt`` (1-based), scaled by ``jitter`` in [0, 1) into 50-100 %."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + jitter / 2)


def retry_delay(
    *,
    method: str,
    attempt: int,
    jitter: float,
    status: int | None = None,
    retry_after: str | None = None,
    failure: FailureKind | None = None,
    phase: Phase | None = None,
    safe: bool | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    unprocessed: bool = False,
) -> float | None:
    """Seconds to wait before trying again after ``attempt`` (1-based) failed, or ``None`` to give up.
    ``unprocessed``: the answer, whatever its status, says the server did not act on the request (retried as a 503).

    Retried with backoff: anything that failed before it was sent (connect, send); safe requests (``safe``, by
    default the safe methods) after a broken answer or a 500/502/503/504; any request after a 429 or 503, which
    the server sends for requests it did not process (its ``Retry-After`` honoured, capped). A timeout is retried
    once, when the request was safe or never sent: each costs ``request_timeout``. Never retried: TLS failures,
    other statuses, and a write whose answer was lost (``write_outcome_unknown``: it is read again instead).
    """
    if attempt >= max_attempts:
        return None
    is_safe = method in SAFE_METHODS if safe is None else safe
    if failure is not None:
        return backoff_delay(attempt, jitter) if _transport_retryable(failure, phase, attempt, safe=is_safe) else None
    wait = parse_retry_after(retry_after)
    retryable = unprocessed or status in (429, 503) or (is_safe and status in SAFE_RETRY_STATUSES)
    if not retryable:
        return None
    return min(wait, RETRY_AFTER_CAP) if wait is not None else backoff_delay(attempt, jitter)


def _transport_retryable(failure: FailureKind, phase: Phase | None, attempt: int, *, safe: bool) -> bool:
    if failure == "timeout":
        return attempt < TIMEOUT_ATTEMPTS and (safe or phase == "connect")
    return failure != "tls" and (safe or failure in ("connect", "send"))


def write_outcome_unknown(
    *,
    safe: bool,
    status: int | None = None,
    failure: FailureKind | None = None,
    phase: Phase | None = None,
) -> bool:
    """Whether a write that failed may nevertheless have been applied: it was sent and its answer was lost, or a
    gateway or the server failed after taking it (500, 502, 504; a 503 or 429 is never processed)."""
    if safe:
        return False
    if failure is not None:
        return failure == "response" or (failure == "timeout" and phase != "connect")
    return status in (500, 502, 504)


def short_retry_delay(
    *, attempt: int, status: int | None = None, retry_after: str | None = None, max_attempts: int = SHORT_ATTEMPTS
) -> float | None:
    """Seconds before sending a GET of the registry check again after ``attempt`` (1-based) failed, or ``None``.

    ``status`` is the status answered, or ``None`` when the connection was refused, reset or broke before a whole
    answer came (the caller decides that; a timeout, a TLS or a DNS failure is not retried). Retried: those, and
    429/502/503/504 with ``Retry-After`` honoured (capped), else an exponential backoff without jitter. Other
    methods are never sent again.
    """
    if attempt >= max_attempts or (status is not None and status not in SHORT_RETRY_STATUSES):
        return None
    wait = parse_retry_after(retry_after) if status is not None else None
    return min(wait, RETRY_AFTER_CAP) if wait is not None else BACKOFF_BASE * 2 ** (attempt - 1)
