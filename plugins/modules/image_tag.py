#!/usr/bin/python
# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_tag
short_description: Tag images into OpenShift image streams, or remove image stream tags
version_added: 0.1.0
description:
  - The declarative form of C(oc tag) and C(oc tag -d). Sets one or more image stream tags (O(dest)) to an image
    stream tag, an image stream image or a container image (O(source)), or removes them (O(state=absent)).
  - O(source) is read exactly as C(oc tag) reads it. Without a registry part, C(mysql:8.0) is the B(image stream
    tag) C(mysql:8.0) of the namespace, not Docker Hub; write C(docker.io/library/mysql:8.0) or set
    O(source_type=DockerImage) to mean the container image.
  - By default a tag from an image stream tag is B(permanent) - it is pinned to the image the source tag points at
    when the task runs (C(<stream>@<digest>)). When the source tag has moved since, a new run re-pins the
    destination and reports V(updated). Use O(alias=true) for a tag that follows its source.
  - The tags are written through the ImageStream object, read once and written at most once per image stream
    (with its C(resourceVersion), re-read and recomputed on a conflict); a missing stream is created. Other tags
    of the stream are not touched, and the annotations of a changed tag are kept (C(oc tag) wipes them).
  - Unlike C(oc tag), running the task again changes nothing. A tag from a container image is re-imported only when
    it changes, or every run with O(reimport=true). C(importMode) is written only when O(import_mode) is set, so
    the cluster default (C(image.config.openshift.io/cluster) C(spec.imageStreamImportMode)) stays in force.
  - Every option is checked and the source resolved before anything is written, so a bad destination or an
    unimported source fails without changing any stream.
author:
  - openshift_ops maintainers (@openshift-ops)
extends_documentation_fragment:
  - openshift_ops.images.connection
  - openshift_ops.images.execution
attributes:
  check_mode:
    support: full
    description: Reads the streams and predicts exactly which tags a real run creates, updates or deletes.
  diff_mode:
    support: full
    description: Shows the destination spec tags before and after.
options:
  source:
    description:
      - What to tag, as for C(oc tag). One of C([namespace/]stream:tag) (an image stream tag),
        C([namespace/]stream@sha256:...) (an image stream image) or C(registry/repository[:tag|@digest]) (a container
        image).
      - Without O(source_type), a reference with a registry part (a first component holding C(.) or C(:), or
        C(localhost)) is a container image, one with a digest an image stream image, one with a tag an image stream
        tag, and anything else (such as C(mysql)) a container image.
      - Required with O(state=present); ignored with O(state=absent).
    type: str
  source_type:
    description:
      - The kind of O(source); V(auto) guesses it as described in O(source).
      - V(istag), V(isimage) and V(docker) are short for V(ImageStreamTag), V(ImageStreamImage) and
        V(DockerImage).
      - With V(ImageStreamTag) or V(ImageStreamImage), a registry part is refused and the namespace C(library) is
        replaced by O(namespace), as C(oc tag --source) does.
    type: str
    choices: [auto, ImageStreamTag, ImageStreamImage, DockerImage, istag, isimage, docker]
    default: auto
  dest:
    description:
      - One or more image stream tags to set or remove, each C([namespace/]stream:tag). C(stream:) means
        C(stream:latest); a bare C(stream) is refused.
      - The tag name must match C([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) (not checked with O(state=absent), so badly
        named tags can be removed). Stream names must match C([a-z0-9]+([._-][a-z0-9]+)*).
    type: list
    elements: str
    required: true
  namespace:
    description:
      - The namespace (project) of O(source) and O(dest) entries that do not name one.
      - Defaults to the namespace of the kubeconfig context, else V(default).
    type: str
  alias:
    description:
      - Make each destination track O(source) (C(from.kind=ImageStreamTag)) instead of pinning its current image.
        OpenShift keeps it in sync only within one image stream, so the destinations must be tags of the source's
        own stream and namespace; anything else is refused (use a permanent tag and re-run the task instead).
      - Needs an image stream tag source, and cannot be combined with O(scheduled) or O(insecure).
    type: bool
    default: false
  scheduled:
    description:
      - Have OpenShift check the container image for updates periodically (every 15 minutes by default) and import
        them. Only for a container image source.
    type: bool
    default: false
  insecure:
    description:
      - Allow importing the container image over HTTP or from a registry with an untrusted certificate. Only for a
        container image source.
    type: bool
    default: false
  reference:
    description:
      - Do not import; the tag points at the source location as it is.
    type: bool
    default: false
  reference_policy:
    description:
      - V(local) makes consumers pull the image through the integrated registry (pull-through); V(source) pulls
        from where the image lives.
    type: str
    choices: [source, local]
    default: source
  import_mode:
    description:
      - V(Legacy) imports one image (for a manifest list, the one for the cluster's architecture);
        V(PreserveOriginal) imports the manifest list as it is.
      - When not set, the tag's current mode is kept, and a new tag gets the cluster default (C(oc tag) always
        writes V(Legacy)).
    type: str
    choices: [Legacy, PreserveOriginal]
  reimport:
    description:
      - Ask OpenShift to import the container image again on every run (the tag's C(generation) is sent as 0),
        which reports a change every time. Only for a container image source without O(reference).
    type: bool
    default: false
  state:
    description:
      - V(present) sets the tags; V(absent) removes each tag from the stream's spec and its history from the
        stream's status with one C(DELETE) of C(imagestreamtags/<stream>:<tag>), as C(oc tag -d) does, which the
        C(edit) and C(admin) roles allow. The images stay until they are pruned.
      - A tag that is already gone is no change (C(oc tag -d) fails instead).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Tagging from another namespace needs C(get) on C(imagestreams/layers) there, which OpenShift's
    C(system:image-puller), C(view), C(edit) and C(admin) roles grant (C(view) through C(registry-viewer),
    which the bootstrap policy aggregates into it); the module checks it first with a SelfSubjectAccessReview
    and fails with the command that grants it. A permanent tag from an image stream tag also reads the source
    image stream, which needs C(get imagestreams) in its namespace.
  - OpenShift never tracks an image stream tag of another stream or namespace, which is why O(alias) refuses them,
    also when the source namespace differs (C(oc tag --alias) only compares the current project).
seealso:
  - module: openshift_ops.images.image_puller_binding
  - plugin: openshift_ops.images.image_ref
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Pin ruby:static-2.0 to the image ruby:2.0 has now (oc tag ruby:2.0 ruby:static-2.0)
  openshift_ops.images.image_tag:
    source: ruby:2.0
    dest: ruby:static-2.0
    namespace: project-a

- name: Promote the image of the test tag into two projects
  openshift_ops.images.image_tag:
    source: project-a/app:test
    dest:
      - project-a/app:prod
      - project-b/app:prod

- name: Make latest follow stable in the same stream
  openshift_ops.images.image_tag:
    source: ruby:stable
    dest: ruby:latest
    alias: true
    namespace: project-a

- name: Import an external image and keep checking it for updates
  openshift_ops.images.image_tag:
    source: quay.io/org/tool:1.4
    dest: tool:1.4
    scheduled: true
    import_mode: PreserveOriginal
    namespace: project-a

- name: Mean Docker Hub, not the image stream tag mysql:8.0
  openshift_ops.images.image_tag:
    source: mysql:8.0
    source_type: DockerImage
    dest: mysql:8.0
    reference_policy: local
    namespace: project-a

- name: Remove two tags
  openshift_ops.images.image_tag:
    dest: [ruby:static-2.0, project-b/ruby:prod]
    namespace: project-a
    state: absent
"""

RETURN = r"""
tags:
  description: One item per O(dest), in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the image stream.
      type: str
      returned: always
    image_stream:
      description: Name of the image stream.
      type: str
      returned: always
    tag:
      description: The tag name.
      type: str
      returned: always
    action:
      description:
        - What was done to the tag (in check mode, what would be done).
        - V(updated) also when a permanent tag is re-pinned because its source moved.
      type: str
      returned: always
      choices: [created, updated, unchanged, deleted, absent]
    from:
      description:
        - The tag's C(from) after the task (for V(deleted), before it). V(null) for V(absent).
        - RV(tags[].from.namespace) is the source's namespace for image stream sources, and V(null) for container
          images.
      type: dict
      returned: always
      contains:
        kind:
          description: V(ImageStreamImage), V(ImageStreamTag) or V(DockerImage).
          type: str
          returned: success
        name:
          description: C(stream@digest), C(stream:tag) or the container image reference.
          type: str
          returned: success
        namespace:
          description: Namespace of the source image stream.
          type: str
          returned: success
    image:
      description: The digest a permanent tag is pinned to; V(null) for other tags and deleted ones.
      type: str
      returned: always
  sample:
    - namespace: project-a
      image_stream: ruby
      tag: static-2.0
      action: created
      from:
        kind: ImageStreamImage
        name: ruby@sha256:6b646fa6bf5e5e4c7fa41056c27910e679c03ebe7f93e361e6515a9da7e258cc
        namespace: project-a
      image: sha256:6b646fa6bf5e5e4c7fa41056c27910e679c03ebe7f93e361e6515a9da7e258cc
diff:
  description: The destination spec tags before and after, keyed C(namespace/stream:tag).
  returned: in diff mode
  type: dict
  contains:
    before:
      description: The spec tags before the task; tags that did not exist are left out.
      type: dict
      returned: in diff mode
    after:
      description: The spec tags after the task; deleted tags are left out.
      type: dict
      returned: in diff mode
"""

from ansible.module_utils.basic import AnsibleModule

# our module_utils come from the payload's zip: compiled once per host, not on every run (docs/execution.md)
from ansible_collections.openshift_ops.images.plugins.module_utils._bytecode_cache import install_bytecode_cache

install_bytecode_cache()

from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.interface import IMAGE_TAG
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import run_module


def main() -> None:
    run_module(AnsibleModule(**IMAGE_TAG.spec_arguments(), supports_check_mode=True), IMAGE_TAG)


if __name__ == "__main__":
    main()
