# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A shipped module imports our module_utils from the AnsiballZ zip, which zipimport compiles on every run; this
keeps their compiled code in a per-user cache, keyed by the source, so a host compiles each version once.

Only imports zipimport would serve are taken over; anything else (the in-process path, a checkout) is left to Python
and its ``__pycache__``. Any problem with the cache means compiling as zipimport does: it never fails a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import stat
import sys
import zipimport
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from importlib.util import spec_from_file_location
from types import CodeType, ModuleType
from typing import Any

_PACKAGE = __name__.rpartition(".")[0]
_SWITCH = "OPENSHIFT_OPS_IMAGES_BYTECODE_CACHE"
_SWITCHED_OFF = ("off", "false", "no", "0")
# The user's cache directory (XDG Base Directory): private to the user the module runs as (root's own under become),
# kept across runs unlike the task's tmp dir, and free for anyone to delete.
_CACHE_PATH = ("openshift_ops.images", "bytecode")
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_DIGEST_SIZE = hashlib.sha256().digest_size


def install_bytecode_cache() -> None:
    """Serves our module_utils from the cache from now on, when they come from a zip and the cache is usable."""
    if os.environ.get(_SWITCH, "").strip().lower() in _SWITCHED_OFF or sys.implementation.cache_tag is None:
        return
    # loaded by the path machinery from a directory: the module_utils beside us are too, with __pycache__
    if __spec__ is None or not isinstance(__spec__.loader, zipimport.zipimporter):
        return
    if any(isinstance(finder, _CachingFinder) for finder in sys.meta_path):
        return
    try:
        directory = _open_cache_directory()
    except Exception:  # no cache, whatever the reason: the module compiles as before
        return
    if directory is not None:
        sys.meta_path.insert(0, _CachingFinder(_BytecodeCache(directory)))


def _open_cache_directory() -> int | None:
    """A descriptor of the cache directory, created if missing; None when it is not ours alone to use.

    Each directory is opened relative to the one before, so nothing can be swapped in between a check and the use.
    """
    configured = os.environ.get("XDG_CACHE_HOME", "")
    home = os.environ.get("HOME", "")
    if os.path.isabs(configured):
        steps = [(configured, False)] + [(name, True) for name in _CACHE_PATH]
    elif os.path.isabs(home):
        # ~/.cache may be a link the user made; our own directories may not be
        steps = [(home, False), (".cache", False)] + [(name, True) for name in _CACHE_PATH]
    else:
        return None
    user = os.geteuid()
    parent: int | None = None
    for name, ours in steps:
        try:
            if parent is not None:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=parent)
            directory = os.open(name, _DIRECTORY_FLAGS | (os.O_NOFOLLOW if ours else 0), dir_fd=parent)
        finally:
            if parent is not None:
                os.close(parent)
        status = os.fstat(directory)
        # not ours: someone else's home (become keeping the user's HOME) gets none of our files
        if status.st_uid != user or (ours and not is_private(status, user)):
            os.close(directory)
            return None
        parent = directory
    return parent


def is_private(status: os.stat_result, user: int) -> bool:
    """Whether what was opened is owned by ``user`` and nobody else can write to it."""
    return status.st_uid == user and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class _CachingFinder:
    """Finds our module_utils in the zips their package's ``__path__`` names, as zipimport would, and loads them
    through the cache. Never through ``zipimporter.find_spec``: it compiles the module to learn its file name."""

    def __init__(self, cache: _BytecodeCache) -> None:
        self._cache = cache

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not fullname.startswith(f"{_PACKAGE}.") or path is None:
            return None
        for entry in path:
            zip_loader = _zip_importer(entry)
            if zip_loader is None:
                return None  # a directory: the path machinery's
            try:
                package = zip_loader.is_package(fullname)
            except zipimport.ZipImportError:
                continue  # not in this zip
            # name, __file__, __path__ and __cached__ as zipimport would set them
            return spec_from_file_location(
                fullname,
                _file_name(zip_loader, fullname, package=package),
                loader=_CachingLoader(zip_loader, self._cache),
                submodule_search_locations=[] if package else None,
            )
        return None


def _zip_importer(entry: str) -> zipimport.zipimporter | None:
    """The zipimporter the path machinery uses (or would make) for a ``__path__`` entry; None for anything else."""
    if entry in sys.path_importer_cache:
        cached = sys.path_importer_cache[entry]
        return cached if isinstance(cached, zipimport.zipimporter) else None
    try:
        importer = zipimport.zipimporter(entry)
    except zipimport.ZipImportError:
        return None
    sys.path_importer_cache[entry] = importer  # as the path machinery keeps it
    return importer


def _file_name(zip_loader: zipimport.zipimporter, fullname: str, *, package: bool) -> str:
    """The path zipimport gives the module's source: the archive, then the file's name in it."""
    name = fullname.rpartition(".")[2]
    inside = f"{name}{os.sep}__init__.py" if package else f"{name}.py"
    return f"{zip_loader.archive}{os.sep}{zip_loader.prefix}{inside}"


class _CachingLoader:
    """zipimport's loader, but for where the code comes from; everything else (``get_source`` for tracebacks and
    ``inspect``, ``is_package``, ``get_data``, resources) is the zipimporter's own."""

    def __init__(self, zip_loader: zipimport.zipimporter, cache: _BytecodeCache) -> None:
        self._zip_loader = zip_loader
        self._cache = cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._zip_loader, name)

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(self.get_code(module.__name__), module.__dict__)  # noqa: S102  # our own module's code, as import does

    def get_filename(self, fullname: str) -> str:
        return _file_name(self._zip_loader, fullname, package=self._zip_loader.is_package(fullname))

    def get_code(self, fullname: str) -> CodeType:
        filename = self.get_filename(fullname)
        try:
            source = self._zip_loader.get_data(filename)
        except OSError:
            return self._zip_loader.get_code(fullname)  # compiled code only: zipimport's to load
        return self._cache.code_for(fullname, filename, source)


class _BytecodeCache:
    """Compiled code by (source, module name, interpreter): one file per module and interpreter.

    A file is named ``<module>-<cache tag>-<key>``; writing a new one removes that module's other files for the same
    interpreter, so the cache holds at most one version of each of our files per Python, whatever the number of
    upgrades. A file holds the SHA-256 of its marshal data, then the data.
    """

    def __init__(self, directory: int) -> None:
        self._directory = directory
        self._user = os.geteuid()
        self._interpreter = (
            importlib.util.MAGIC_NUMBER + sys.version.encode() + b"\0" + str(sys.flags.optimize).encode() + b"\0"
        )

    def code_for(self, fullname: str, filename: str, source: bytes) -> CodeType:
        key = hashlib.sha256(self._interpreter + fullname.encode() + b"\0")
        key.update(source)
        slot = f"{fullname}-{sys.implementation.cache_tag}-"
        name = slot + key.hexdigest()
        try:
            cached = self._read(name)
        except Exception:  # unreadable or damaged: compiled again, and replaced
            cached = None
        if cached is not None:
            return _with_filename(cached, filename)
        code = compile(source, filename, "exec", dont_inherit=True)
        with contextlib.suppress(Exception):  # not written: the next run compiles again
            self._write(name, slot, code)
        return code

    def _read(self, name: str) -> CodeType | None:
        try:
            descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self._directory)
        except FileNotFoundError:
            return None
        with os.fdopen(descriptor, "rb") as file:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode) or not is_private(status, self._user):
                return None
            data = file.read()
        digest, payload = data[:_DIGEST_SIZE], data[_DIGEST_SIZE:]
        if hashlib.sha256(payload).digest() != digest:
            return None  # damaged: compiled again and replaced
        code = marshal.loads(payload)  # noqa: S302  # written by us, in a directory only we can write to
        return code if isinstance(code, CodeType) else None

    def _write(self, name: str, slot: str, code: CodeType) -> None:
        payload = marshal.dumps(code)
        temporary = f"{name}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):  # left by an earlier process with our pid that died
            os.unlink(temporary, dir_fd=self._directory)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(temporary, flags, 0o600, dir_fd=self._directory), "wb") as file:
            file.write(hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, name, src_dir_fd=self._directory, dst_dir_fd=self._directory)
        for entry in os.listdir(self._directory):
            if entry.startswith(slot) and entry != name:
                with contextlib.suppress(FileNotFoundError):  # another run removed it first
                    os.unlink(entry, dir_fd=self._directory)


def _with_filename(code: CodeType, filename: str) -> CodeType:
    """The cached code with the file name of this run's zip (a new temporary path every run), as tracebacks show."""
    if code.co_filename == filename:
        return code
    # a list, not a generator: this runs for every code object of every module loaded, on every run
    constants = [
        _with_filename(constant, filename) if isinstance(constant, CodeType) else constant
        for constant in code.co_consts
    ]
    return code.replace(co_filename=filename, co_consts=tuple(constants))
