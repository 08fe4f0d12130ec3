# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A base for in-memory stand-ins of the cores' API client (``KubeApi``): a request the stand-in does not answer
fails the test, naming the method, so a core that sends more than the test expects cannot pass unnoticed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class UnexpectedRequests:
    """Every ``KubeApi`` method refuses; a stand-in overrides those its test expects."""

    default_namespace = "default"

    def get(self, path: str, *, allow_missing: bool = False, query: Mapping[str, Any] | None = None) -> dict | None:
        raise AssertionError(f"no get expected: {path}")

    def create(self, path: str, body: Mapping[str, Any]) -> dict:
        raise AssertionError(f"no create expected: {path}")

    def replace(self, path: str, body: Mapping[str, Any]) -> dict:
        raise AssertionError(f"no replace expected: {path}")

    def patch(self, path: str, body: Any, *, patch_type: str = "merge") -> dict:
        raise AssertionError(f"no patch expected: {path}")

    def delete(self, path: str, *, allow_missing: bool = False, body: Mapping[str, Any] | None = None) -> dict | None:
        raise AssertionError(f"no delete expected: {path}")

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict:
        raise AssertionError(f"no other request expected: {method} {path}")
