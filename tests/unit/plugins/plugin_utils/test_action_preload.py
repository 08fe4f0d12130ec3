# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""preload_core imports a module's core when the in-process path can run, and only then."""

from __future__ import annotations

import sys

import pytest

from ansible_collections.openshift_ops.images.plugins.plugin_utils import _action

INTERFACE = "ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.interface"


@pytest.fixture
def without_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    # monkeypatch puts the module back afterwards
    monkeypatch.delitem(sys.modules, INTERFACE, raising=False)


@pytest.mark.usefixtures("without_interface")
def test_preload_imports_the_core_where_the_in_process_path_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_action, "ansible_version", "2.19.14")
    _action.preload_core("secret_link")
    assert INTERFACE in sys.modules
    assert _action.module_interface("secret_link").name == "secret_link"


@pytest.mark.usefixtures("without_interface")
def test_preload_imports_nothing_where_only_the_module_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_action, "ansible_version", "2.17.14")
    _action.preload_core("secret_link")
    assert INTERFACE not in sys.modules
