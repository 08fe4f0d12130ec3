# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one error family: every failure a module reports is one of these.

Messages are written for the person running the playbook: they name the bad value, the rule it broke and what to
do. They never contain a secret (tokens, passwords, ``auth`` strings).
"""

from __future__ import annotations


class ImagesError(Exception):
    """Base of every error this collection raises on purpose; ``str(error)`` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInputError(ImagesError):
    """A module option or an input document is wrong; nothing was sent to the cluster."""


class ClusterStateError(ImagesError):
    """The cluster is in a state that prevents the change (e.g. a source tag with no image yet)."""


class PartialChangeError(ClusterStateError):
    """A step failed after an earlier one had changed the cluster; ``result`` is what the module reports with the
    failure (``changed`` and what the cluster now holds), and the message says how to get back."""

    def __init__(self, message: str, *, result: dict[str, object]) -> None:
        super().__init__(message)
        self.result = dict(result)


class KubeConnectionError(ImagesError):
    """The API server could not be reached or spoken to: DNS, refused connection, TLS, timeout."""


class UncertainWriteError(KubeConnectionError):
    """A write was sent but its answer was lost (connection broken, timeout, 500/502/504): it may or may not have
    been applied. Never repeated blindly; the object is read again first (``read_modify_write``)."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class KubeAuthConfigError(ImagesError):
    """No usable cluster configuration or credentials (kubeconfig, in-cluster, exec plugin)."""


class RegistryCheckError(ImagesError):
    """A registry credential check could not be completed or the registry refused the credentials."""


class KubeApiError(ImagesError):
    """The API server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str = "",
        method: str = "",
        path: str = "",
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.method = method
        self.path = path
        self.details = details or {}


class UnauthorizedError(KubeApiError):
    """401: the credentials were not accepted."""


class ForbiddenError(KubeApiError):
    """403: authenticated but not allowed."""


class NotFoundError(KubeApiError):
    """404: the object (or its namespace, or the API) does not exist."""


class ConflictError(KubeApiError):
    """409: resourceVersion conflict or AlreadyExists."""


class UnprocessableError(KubeApiError):
    """422: the API server rejected the object as invalid."""


class TooManyRequestsError(KubeApiError):
    """429: throttled (API priority and fairness)."""


class ServerError(KubeApiError):
    """5xx: the API server or something behind it failed."""
