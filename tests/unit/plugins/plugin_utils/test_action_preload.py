# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""preload_core imports a module's core when the in-process path can run, and only then."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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


def test_preload_imports_what_tasks_import_only_when_their_options_need_it() -> None:
    # a fresh interpreter: this one imported much of module_utils already
    script = textwrap.dedent(
        """
        import sys
        from ansible_collections.openshift_ops.images.plugins.plugin_utils import _action
        _action.preload_core("secret_link")
        print(",".join(sorted(name for name in sys.modules if name.startswith(_action.MODULE_UTILS))))
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = set(completed.stdout.strip().split(","))
    module_utils = Path(_action.__file__).parents[1] / "module_utils"
    expected = {
        ".".join([_action.MODULE_UTILS, *path.relative_to(module_utils).with_suffix("").parts])
        for path in module_utils.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert expected <= loaded, sorted(expected - loaded)
    assert f"{_action.MODULE_UTILS}._registry.check" in loaded  # imported by a task only to check credentials


def test_preload_sets_up_tls_once_before_the_workers_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    def context(protocol: int) -> object:
        made.append(protocol)
        return object()

    monkeypatch.setattr(_action, "_tls_warmed", [])
    monkeypatch.setattr(_action.ssl, "SSLContext", context)
    monkeypatch.setattr(_action, "ansible_version", "2.19.14")
    _action.preload_core("secret_link")
    _action.preload_core("image_tag")
    assert made == [_action.ssl.PROTOCOL_TLS_CLIENT]
