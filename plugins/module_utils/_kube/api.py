# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules' cores ask of a Kubernetes API client: ``KubeClient`` is the one they get, and a test may hand
them anything else with these methods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class KubeApi(Protocol):
    """JSON in, JSON out; errors are the typed ``KubeApiError`` family of ``_errors``."""

    @property
    def default_namespace(self) -> str: ...

    def get(self, path: str, *, allow_missing: bool = False, query: Mapping[str, Any] | None = None) -> dict | None: ...

    def create(self, path: str, body: Mapping[str, Any]) -> dict: ...

    def replace(self, path: str, body: Mapping[str, Any]) -> dict: ...

    def patch(self, path: str, body: Any, *, patch_type: str = "merge") -> dict: ...

    def delete(
        self, path: str, *, allow_missing: bool = False, body: Mapping[str, Any] | None = None
    ) -> dict | None: ...

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict: ...
