"""The layering of plugins/module_utils: module packages build on concern packages, never on each other.

A module package (``_<module>``, one per file in plugins/modules/, and one per event source in
extensions/eda/plugins/event_source/) may import the concern packages and shared files (``_kube``, ``_registry``,
``_errors.py``, ...) and itself; a concern package or shared file may import other concerns but never a module
package. A module and its action plugin, and an event source, belong to their package; filters and plugin_utils
serve every module, so they import concerns only. Read from the source with ``ast``: absolute and
relative imports count, wherever they are (inside functions too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

COLLECTION = "ansible_collections.openshift_ops.images"
MODULE_UTILS = f"{COLLECTION}.plugins.module_utils"
ROOT = Path(__file__).resolve().parents[4]
EVENT_SOURCES = "extensions/eda/plugins/event_source"
SCANNED = (
    "plugins/module_utils",
    "plugins/modules",
    "plugins/action",
    "plugins/filter",
    "plugins/plugin_utils",
    EVENT_SOURCES,
)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    importer: str
    imported: str
    statement: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports module package {self.imported}: {self.statement}"


def module_packages(root: Path) -> set[str]:
    """``_<module>`` for every module and every event source of the collection."""
    plugins = [*(root / "plugins/modules").glob("*.py"), *(root / EVENT_SOURCES).glob("*.py")]
    return {f"_{path.stem}" for path in plugins if path.stem != "__init__"}


def _dotted_name(root: Path, path: Path) -> list[str]:
    parts = [COLLECTION, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported_names(root: Path, path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The absolute dotted names an import statement reaches, relative ones resolved against ``path``."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = _dotted_name(root, path)
        if path.name != "__init__.py":
            package = package[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    # ``from ...module_utils import _x`` names the package in the imported names
    yield from (f"{base}.{alias.name}" for alias in node.names) if base == MODULE_UTILS else (base,)


def _unit_of(root: Path, path: Path) -> str:
    """What a file belongs to: its module_utils package or shared file, its module's package, or its plugin type."""
    relative = path.relative_to(root)
    if relative.parts[:2] == ("plugins", "module_utils"):
        return Path(relative.parts[2]).stem
    if (
        relative.parts[:2] in {("plugins", "modules"), ("plugins", "action")}
        or relative.parent.as_posix() == EVENT_SOURCES
    ):
        return f"_{path.stem}"
    return "/".join(relative.parts[:2])


def layer_violations(root: Path, scanned: tuple[str, ...] = SCANNED) -> list[Violation]:
    """Every import of a module package from outside it, in the .py files under ``scanned``."""
    modules = module_packages(root)
    found = []
    for directory in scanned:
        for path in sorted((root / directory).rglob("*.py")):
            importer = _unit_of(root, path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for name in _imported_names(root, path, node):
                    if not name.startswith(f"{MODULE_UTILS}."):
                        continue
                    imported = name[len(MODULE_UTILS) + 1 :].split(".")[0]
                    if imported in modules and imported != importer:
                        relative = path.relative_to(root).as_posix()
                        found.append(Violation(relative, node.lineno, importer, imported, ast.unparse(node)))
    return sorted(found, key=lambda v: (v.path, v.line))


def test_module_packages_import_only_concerns_and_themselves() -> None:
    assert module_packages(ROOT), f"no modules found under {ROOT / 'plugins/modules'}"
    violations = layer_violations(ROOT)
    assert not violations, "module packages may import concern packages and themselves only:\n" + "\n".join(
        map(str, violations)
    )


# ---------------------------------------------------------------------------------------------------------------
# The checker itself, on a tree made for it


def _write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for module in ("alpha", "beta"):
        _write(tmp_path, f"plugins/modules/{module}.py")
        _write(tmp_path, f"plugins/module_utils/_{module}/__init__.py")
    _write(tmp_path, f"{EVENT_SOURCES}/gamma.py")
    _write(tmp_path, "plugins/module_utils/_gamma/__init__.py")
    _write(tmp_path, "plugins/module_utils/_errors.py")
    _write(tmp_path, "plugins/module_utils/_kube/__init__.py")
    _write(tmp_path, "plugins/module_utils/_kube/names.py")
    return tmp_path


ALLOWED = {
    # itself, concerns and shared files, absolute and relative
    "plugins/module_utils/_alpha/apply.py": (
        f"from {MODULE_UTILS}._alpha.plan import plan\n"
        f"from {MODULE_UTILS}._kube import names\n"
        "from .plan import decide\n"
        "from . import plan\n"
        "from .._errors import ImagesError\n"
        "from ..import _kube\n"
        f"import {MODULE_UTILS}._kube.names\n"
    ),
    "plugins/module_utils/_kube/client.py": "from .names import secret_path\nfrom .._errors import ImagesError\n",
    "plugins/modules/alpha.py": f"from {MODULE_UTILS}._alpha.interface import ALPHA\n",
    "plugins/action/alpha.py": "from ..module_utils._alpha import interface\n",
    "plugins/filter/f.py": f"from {MODULE_UTILS}._kube.names import x\n",
    f"{EVENT_SOURCES}/gamma.py": (
        f"from {MODULE_UTILS}._gamma.source import run\nfrom {MODULE_UTILS}._kube import watch\n"
    ),
}


def test_checker_accepts_imports_of_concerns_and_of_itself(tree: Path) -> None:
    for relative, text in ALLOWED.items():
        _write(tree, relative, text)
    assert layer_violations(tree) == []


@pytest.mark.parametrize(
    ("relative", "text", "line", "importer", "imported"),
    [
        (
            "plugins/module_utils/_alpha/apply.py",
            f"import os\nfrom {MODULE_UTILS}._beta import plan\n",
            2,
            "_alpha",
            "_beta",
        ),
        ("plugins/module_utils/_alpha/apply.py", f"import {MODULE_UTILS}._beta.plan as other\n", 1, "_alpha", "_beta"),
        ("plugins/module_utils/_alpha/apply.py", "from .._beta.plan import x\n", 1, "_alpha", "_beta"),
        ("plugins/module_utils/_alpha/apply.py", "from .. import _beta\n", 1, "_alpha", "_beta"),
        ("plugins/module_utils/_alpha/__init__.py", "from .._beta import plan\n", 1, "_alpha", "_beta"),
        (
            "plugins/module_utils/_alpha/apply.py",
            f"def later():\n    from {MODULE_UTILS}._beta.apply import run\n",
            2,
            "_alpha",
            "_beta",
        ),
        ("plugins/module_utils/_kube/client.py", "from .._alpha.plan import x\n", 1, "_kube", "_alpha"),
        ("plugins/module_utils/_errors.py", f"from {MODULE_UTILS} import _beta\n", 1, "_errors", "_beta"),
        ("plugins/modules/alpha.py", f"from {MODULE_UTILS}._beta.interface import BETA\n", 1, "_alpha", "_beta"),
        ("plugins/action/beta.py", "from ..module_utils._alpha import interface\n", 1, "_beta", "_alpha"),
        ("plugins/filter/f.py", f"from {MODULE_UTILS}._alpha.plan import x\n", 1, "plugins/filter", "_alpha"),
        (f"{EVENT_SOURCES}/gamma.py", f"from {MODULE_UTILS}._alpha.plan import x\n", 1, "_gamma", "_alpha"),
        ("plugins/module_utils/_alpha/apply.py", "from .._gamma.changes import x\n", 1, "_alpha", "_gamma"),
    ],
)
def test_checker_finds_a_module_package_imported_from_outside(
    tree: Path, *, relative: str, text: str, line: int, importer: str, imported: str
) -> None:
    _write(tree, relative, text)
    [violation] = layer_violations(tree)
    assert (violation.path, violation.line, violation.importer, violation.imported) == (
        relative,
        line,
        importer,
        imported,
    )
    assert str(violation).startswith(f"{relative}:{line}: {importer} imports module package {imported}: ")
    assert imported in violation.statement
