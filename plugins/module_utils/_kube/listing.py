# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every object of one API collection, a page at a time, as client-go's pager lists: the items with their kind and
apiVersion filled in (a list's items come without them) and the list's resourceVersion."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeApiError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi

LIST_PAGE_SIZE = 500


def list_all(client: KubeApi, path: str, *, page_size: int = LIST_PAGE_SIZE) -> tuple[list[dict[str, Any]], str | None]:
    """The objects of the collection at ``path`` and the resourceVersion of the list. When a page's continue token
    has expired (410), the whole list is asked for in one answer instead, as client-go's pager falls back."""
    items: list[dict[str, Any]] = []
    token = None
    while True:
        query: dict[str, Any] = {"limit": page_size}
        if token:
            query["continue"] = token
        try:
            page = client.get(path, query=query) or {}
        except KubeApiError as error:
            if error.status != 410 or not token:
                raise
            page, items, token = client.get(path) or {}, [], None
        items.extend(_typed(item, page) for item in page.get("items") or [] if isinstance(item, dict))
        metadata = page.get("metadata") or {}
        token = metadata.get("continue")
        if not token:
            return items, metadata.get("resourceVersion")


def _typed(item: dict[str, Any], page: dict[str, Any]) -> dict[str, Any]:
    list_kind, api_version = page.get("kind"), page.get("apiVersion")
    if "kind" not in item and isinstance(list_kind, str) and list_kind.endswith("List"):
        item["kind"] = list_kind.removesuffix("List")
    if "apiVersion" not in item and isinstance(api_version, str):
        item["apiVersion"] = api_version
    return item
