# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-rulebook event source ``openshift_ops.images.image_stream_events``: events when what an OpenShift image
stream tag points at changes. The work is done in ``plugins/module_utils/_image_stream_events``; see
docs/image_stream_events.md."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

DOCUMENTATION = r"""
name: image_stream_events
short_description: Events when OpenShift image stream tags change
version_added: 0.2.0
description:
  - An ansible-rulebook event source that watches the image streams of the namespaces given, or of every namespace,
    and sends one event each time what a tag points at changes (a new image digest), a tag gets its first image, a
    tag goes away, or an import of a tag fails (its C(ImportSuccess) condition becomes C(False)).
  - Writes that change nothing a tag points at (annotations, labels, a spec change the controllers have not acted on
    yet) send no event.
  - It lists the image streams, then watches them from the list's C(resourceVersion). A dropped connection or an
    API server restart is followed by a new watch from the last C(resourceVersion) seen, after a backoff (up to
    30 s). When that version is too old for the server (410 Gone) it lists again and sends exactly the changes it
    missed, none twice.
  - A 401 or 403 after a working start is retried the same way for up to 60 s, since an API server that has just
    started refuses for a moment; a refusal that lasts longer, or any failure of the first list, stops the source
    with the reason.
  - The image streams and tags found when it starts send no event (see O(emit_existing)), and nothing is remembered
    across restarts of the source.
  - Connects with the collection's connection options, named as in kubernetes.core, with the same
    E(K8S_AUTH_*) environment variables, kubeconfig and in-cluster fallbacks as the modules. Tokens, passwords and
    keys never reach an event or the log.
author:
  - openshift_ops maintainers (@openshift-ops)
requirements:
  - ansible-rulebook, and ansible-core in the same Python environment (its C(ansible-galaxy) finds the collection).
extends_documentation_fragment:
  - openshift_ops.images.connection
options:
  namespaces:
    description:
      - The namespaces (projects) whose image streams are watched, one watch each.
      - Empty (the default) watches every namespace with one cluster-wide watch, which needs C(list) and C(watch)
        on C(imagestreams.image.openshift.io) in all namespaces; without it the source stops with a message that
        says so.
    type: list
    elements: str
    default: []
  emit_existing:
    description:
      - Send a V(tag_added) event (and an V(import_failed) event for each failing import) for every tag found when
        the source starts.
      - By default those only become the state later changes are compared with, so a restart does not flood the
        rulebook with the tags that already exist.
    type: bool
    default: false
notes:
  - "Each event is C({image_stream_tag: {...}}) with the keys C(change) (V(tag_added), V(image_changed),
    V(tag_removed) or V(import_failed)), C(namespace), C(image_stream), C(tag), C(previous_image) and C(image) (the
    digests the tag pointed at before and after, C(null) when it had none), C(image_reference) (where the new image
    is pulled from), C(source) (the tag's C(spec.tags[].from): C(kind), C(name), C(namespace)), C(generation),
    C(import_failure) (C(reason) and C(message) of an V(import_failed) event) and C(resource_version) of the image
    stream."
"""

EXAMPLES = r"""
- name: React to new images in the builds project
  hosts: localhost
  sources:
    - openshift_ops.images.image_stream_events:
        namespaces: [builds]
  rules:
    - name: A tag points at a new image
      condition: event.image_stream_tag.change == "image_changed"
      action:
        print_event:
          pretty: true

- name: Report failed imports in every namespace
  hosts: localhost
  sources:
    # The connection from K8S_AUTH_HOST, K8S_AUTH_API_KEY and K8S_AUTH_SSL_CA_CERT in ansible-rulebook's environment
    # (what an AWX credential injects), else the kubeconfig or the pod's service account.
    - openshift_ops.images.image_stream_events: {}
  rules:
    - name: An import failed
      condition: event.image_stream_tag.change == "import_failed"
      action:
        debug:
          msg: "{{ event.image_stream_tag.import_failure.message }}"
"""

COLLECTION_DIRECTORIES = ("ansible_collections", "openshift_ops", "images")


def _collection_importable() -> None:
    """ansible-rulebook runs this file by its path: make the collection it lies in importable as
    ``ansible_collections.openshift_ops.images``, whose module_utils hold the code."""
    here = Path(__file__).absolute()  # not resolved: the collection may be a symbolic link
    collection = here.parents[4]  # .../ansible_collections/openshift_ops/images
    if (collection.parent.parent.name, collection.parent.name, collection.name) != COLLECTION_DIRECTORIES:
        raise ImportError(
            f"{here} is not inside ansible_collections/openshift_ops/images/: install the collection with "
            "ansible-galaxy, or put it in a collections path under that name"
        )
    root = str(collection.parents[2])
    if root not in sys.path:
        sys.path.append(root)


async def main(queue: asyncio.Queue[Any], args: dict[str, Any]) -> None:
    """The entry point ansible-rulebook calls; runs until the rulebook stops it."""
    _collection_importable()
    from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.source import (  # noqa: PLC0415 - importable only now
        run_event_source,
    )

    await run_event_source(queue, args)
