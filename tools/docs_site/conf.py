# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the docs site that `make docs` builds: the pages antsibull-docs generates from the
plugin and role docs, and the Markdown guides of docs/ read by MyST. Based on `antsibull-docs sphinx-init`."""

from __future__ import annotations

from typing import Any

from docutils import nodes

project = "openshift_ops.images"
project_copyright = "openshift_ops.images contributors"
title = html_short_title = "openshift_ops.images"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# The guides link to each other's sections by GitHub's heading anchors.
myst_heading_anchors = 4

pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
display_version = False

default_role = "any"
nitpicky = True

# The generated pages refer to the Ansible docsite by label, which intersphinx would resolve online. The build runs
# offline, so these labels are resolved here to their pages on docs.ansible.com; any other missing reference is
# still a warning, which fails the build.
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
ANSIBLE_DOCS_LABELS = {
    "action_plugins": ("plugins/action.html", "Action plugins"),
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
}
OWN_LABEL_PREFIX = "ansible_collections.openshift_ops.images."


def ansible_docs_page(target: str) -> tuple[str, str] | None:
    """The docs.ansible.com page and title of an Ansible docsite label, or None for any other label."""
    if target in ANSIBLE_DOCS_LABELS:
        return ANSIBLE_DOCS_LABELS[target]
    # Plugins of other collections: ansible_collections.<namespace>.<name>.<plugin>_<type>
    parts = target.split(".")
    if target.startswith(OWN_LABEL_PREFIX) or len(parts) != 4 or parts[0] != "ansible_collections":
        return None
    return f"collections/{parts[1]}/{parts[2]}/{parts[3]}.html", target


def resolve_ansible_docs(app: Any, env: Any, node: Any, contnode: Any) -> nodes.reference | None:
    if node.get("refdomain") != "std" or node.get("reftype") != "ref":
        return None
    page = ansible_docs_page(node["reftarget"])
    if page is None:
        return None
    uri, page_title = page
    reference = nodes.reference("", "", internal=False, refuri=ANSIBLE_DOCS + uri)
    if node.get("refexplicit"):
        reference.append(contnode)
    else:
        reference.append(nodes.inline(page_title, page_title))
    return reference


def setup(app: Any) -> None:
    app.connect("missing-reference", resolve_ansible_docs)
