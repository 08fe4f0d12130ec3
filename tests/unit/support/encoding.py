"""Base64 as the tests write it into auth entries, Secrets and kubeconfigs, and a watch on the decodes the code under
test makes. Shared by the unit and the integration tests."""

from __future__ import annotations

import base64

import pytest


def b64(data: str | bytes) -> str:
    """Standard base64 of ``data`` (text is encoded as UTF-8 first), as text."""
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every value ``base64.b64decode`` is given from now on in this test, in order."""
    decoded: list[object] = []
    real = base64.b64decode

    def recording(value: object, *args: object, **kwargs: object) -> bytes:
        decoded.append(value)
        return real(value, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(base64, "b64decode", recording)
    return decoded
