# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Asking the cluster's authorizer whether a subject may pull a project's images: a SubjectAccessReview, or the
LocalSubjectAccessReview a project admin may create when the cluster-wide one is forbidden."""

from __future__ import annotations

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ForbiddenError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    local_subject_access_review_path,
    subject_access_review_path,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.authorization import (
    Subject,
    image_pull_review,
    review_outcome,
)


class PullAccessReviewer:
    """Reviews subjects' pull access in one project, remembering when the cluster-wide review was forbidden so that
    later reviews go straight to the local one."""

    def __init__(self, client: KubeApi, namespace: str) -> None:
        self._client = client
        self._namespace = namespace
        self._local_only = False

    def review(self, subject: Subject) -> tuple[bool, str]:
        """(allowed, the authorizer's reason). ForbiddenError when this user may create neither review."""
        if not self._local_only:
            try:
                return review_outcome(
                    self._client.create(subject_access_review_path(), image_pull_review(subject, self._namespace))
                )
            except ForbiddenError:
                self._local_only = True
        return review_outcome(
            self._client.create(
                local_subject_access_review_path(self._namespace),
                image_pull_review(subject, self._namespace, local=True),
            )
        )
