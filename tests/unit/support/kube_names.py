"""How the tests address cluster objects and subjects: the API paths of Secrets and ServiceAccounts and a service
account's user name, written out here rather than taken from the collection's ``_kube/names.py``, so that a test
checks the collection's paths instead of reusing them. Used by the integration tests."""

from __future__ import annotations


def secret_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


def sa_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}"


def sa_user(namespace: str, name: str = "default") -> str:
    return f"system:serviceaccount:{namespace}:{name}"
