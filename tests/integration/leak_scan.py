# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The leak scan of the whole integration suite: every secret the suite uses, searched in everything its runs show.

The runners of ``sandbox_support`` hand over what each module or playbook run was given (options, extra vars, the
playbook's text, auth files, Secrets the tests stored) and what it showed: stdout, stderr, the result, and every
file it wrote except backups (whose mode is checked instead: 0600). Secrets are collected from what was given
(values under keys that hold secrets, ``auth`` strings and their passwords, auth documents in any form) and from
the sandbox (registry password, bearer tokens, the admin client key). At the end of the session every record is
searched for every secret and for anything shaped like a JWT (service-account and registry tokens): a hit fails
the session. ``python -m tests.integration.leak_scan FILE...`` scans other output (molecule's) for the sandbox's
secrets the same way.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import shlex
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Shorter values (a bad-input case's "p") would match everywhere; they are counted, not searched.
MIN_SECRET_LENGTH = 8
SECRET_KEYS = frozenset(
    {"password", "auth", "api_key", "token", "identitytoken", "registrytoken", "client_key_data", "proxy_password"}
)
SECRET_KEY_SUFFIXES = ("_password", "_token", "_api_key", "_auth")
# header.payload.signature, both first parts JSON objects in base64url: service-account and registry tokens
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEYS or lowered.endswith(SECRET_KEY_SUFFIXES)


def _decoded_auth(value: str) -> str | None:
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text.partition(":")[2] if ":" in text else None


@dataclass
class LeakScan:
    """Collects secrets and records over a session; ``hits()`` searches every record for every secret."""

    secrets: set[str] = field(default_factory=set)
    too_short: set[str] = field(default_factory=set)
    public: set[str] = field(default_factory=set)
    runs: int = 0
    files_scanned: int = 0
    backups_checked: int = 0
    bad_backup_modes: list[str] = field(default_factory=list)
    _records: list[tuple[str, int, int]] = field(default_factory=list)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # one spool file for the session, closed with the process
    _spool: Any = field(default_factory=lambda: tempfile.TemporaryFile(prefix="leak-scan-"))  # noqa: SIM115

    # -- secrets -------------------------------------------------------------------------------------------------

    def add_secret(self, value: Any) -> None:
        if not isinstance(value, str) or not value or value == MASK:
            return
        with self._lock:
            (self.secrets if len(value) >= MIN_SECRET_LENGTH else self.too_short).add(value)

    def add_secrets_from(self, value: Any, *, key: str = "") -> None:
        """Every secret in options, extra vars, a playbook, an auth document or a Secret, in any nesting."""
        if isinstance(value, Mapping):
            for name, item in value.items():
                self._add_entry(str(name), item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.add_secrets_from(item, key=key)
        elif isinstance(value, str):
            self._add_text(value, key=key)

    def _add_entry(self, name: str, item: Any) -> None:
        if name == ".dockerconfigjson" and isinstance(item, str):  # a Secret's data (base64) or stringData
            decoded = _b64_text(item)
            self._add_text(decoded if decoded is not None else item, key=name)
            return
        if _is_secret_key(name) and isinstance(item, str):
            self.add_secret(item)
            if name.lower() == "auth":
                self.add_secret(_decoded_auth(item))
            self._add_text(item, key=name)
            return
        if isinstance(item, str) and name.lower() in ("username", "server", "name", "namespace", "user"):
            with self._lock:
                self.public.add(item)
        self.add_secrets_from(item, key=name)

    def _add_text(self, text: str, *, key: str) -> None:
        stripped = text.strip()
        if stripped.startswith("{") and "auths" in stripped:
            with contextlib.suppress(ValueError):
                self.add_secrets_from(json.loads(stripped), key=key)

    def add_file(self, path: str | os.PathLike[str]) -> None:
        """An input file (an auth file): its secrets are searched for, the file itself is not."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        self._add_text(text, key="file")

    def add_basic_pair(self, username: str, password: str) -> None:
        self.add_secret(password)
        self.add_secret(base64.b64encode(f"{username}:{password}".encode()).decode())

    # -- records -------------------------------------------------------------------------------------------------

    def record(self, label: str, data: str | bytes | None) -> None:
        if not data:
            return
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
        with self._lock:
            offset = self._spool.seek(0, os.SEEK_END)
            self._spool.write(raw)
            self._records.append((label, offset, len(raw)))
            self._bytes += len(raw)

    def record_new_files(self, label: str, root: Path, *, known: set[Path], backup_dirs: Iterable[str] = ()) -> None:
        """Files under ``root`` that were not there before the run: scanned; backups: only their mode checked."""
        backup_roots = [Path(directory) for directory in backup_dirs]
        for path in sorted(root.rglob("*")):
            if path in known or not path.is_file():
                continue
            if any(root_dir in path.parents for root_dir in backup_roots):
                continue
            self.files_scanned += 1
            self.record(f"{label}: file {path.relative_to(root)}", path.read_bytes())
        for directory in backup_roots:
            self.check_backups(directory)

    def check_backups(self, directory: Path) -> None:
        for path in sorted(directory.glob("*")) if directory.is_dir() else []:
            if not path.is_file():
                continue
            self.backups_checked += 1
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode != 0o600:
                self.bad_backup_modes.append(f"{path}: {oct(mode)}")

    # -- the search ----------------------------------------------------------------------------------------------

    @property
    def bytes_recorded(self) -> int:
        return self._bytes

    def searched(self) -> list[str]:
        return sorted(self.secrets - self.public, key=len, reverse=True)

    def hits(self) -> list[str]:
        """``label: what leaked`` for every record holding a secret (named by length and first characters)."""
        wanted = self.searched()
        pattern = re.compile(b"|".join(re.escape(secret.encode()) for secret in wanted)) if wanted else None
        found = []
        with self._lock:
            for label, offset, length in self._records:
                self._spool.seek(offset)
                data = self._spool.read(length)
                for match in pattern.finditer(data) if pattern else ():
                    secret = match.group(0).decode("utf-8", "replace")
                    found.append(f"{label}: a secret of {len(secret)} characters starting {secret[:3]!r}")
                for match in JWT.finditer(data):
                    found.append(f"{label}: a token (JWT) starting {match.group(0)[:12].decode()!r}")
        return found

    def summary(self) -> str:
        return (
            f"leak scan: {self.runs} runs, {self.bytes_recorded:,} bytes of output, results and files "
            f"({self.files_scanned} files) searched for {len(self.searched())} secrets and any JWT; "
            f"{self.backups_checked} backups checked for mode 0600; {len(self.too_short)} values under "
            f"{MIN_SECRET_LENGTH} characters not searched"
        )


def _b64_text(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def sandbox_secrets(scan: LeakScan, env: Mapping[str, str]) -> None:
    """The sandbox's own secrets: the registry password (and its auth string), every kubeconfig's token and the
    admin's client key."""
    user, password = env.get("SANDBOX_REGISTRY_USER", ""), env.get("SANDBOX_REGISTRY_PASSWORD", "")
    if password:
        scan.add_basic_pair(user, password)
    for name in ("KUBECONFIG", "SANDBOX_USER_KUBECONFIG", "SANDBOX_BENCH_KUBECONFIG"):
        path = env.get(name)
        if not path or not Path(path).is_file():
            continue
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            key, _sep, value = line.strip().partition(":")
            if key in ("token", "client-key-data") and value.strip():
                scan.add_secret(value.strip().strip("'\""))


LEAKS = LeakScan()


def main(argv: list[str]) -> int:
    """Scan files (molecule's output) for the sandbox's secrets; exit 1 on a hit."""
    env_file = Path(os.environ.get("SANDBOX_ENV_FILE", Path(__file__).resolve().parents[2] / ".sandbox" / "env.sh"))
    env = {}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _sep, value = words[1].partition("=")
            env[key] = value
    scan = LeakScan()
    sandbox_secrets(scan, env)
    for name in argv:
        scan.runs += 1
        scan.record(name, Path(name).read_bytes())
    hits = scan.hits()
    print(scan.summary().replace(" runs,", " files,", 1))
    for hit in hits:
        print(f"LEAK {hit}")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
