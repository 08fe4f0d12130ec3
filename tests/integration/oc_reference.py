# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""oc's side of the parity tests: live when real oc is supplied, else from golden files recorded from real oc.

Each parity test has oc act in a twin namespace and reads back what oc left there. Through ``OcReference`` every
oc call (exit code and output) and every read of oc's results is, by mode:

- ``golden`` (no oc: `make test`): answered from ``golden/oc_parity.json``, recorded from real oc against the real
  OpenShift servers; oc is not run;
- ``live`` (SANDBOX_OPENSHIFT_BIN with oc): run for real, and checked against the golden file, so a change in oc's
  behaviour shows up;
- ``record`` (live, and SANDBOX_RECORD_GOLDEN=1): run for real and written to the golden file.

Values are stored normalised: the run's namespace names, digests, repositories, the sandbox registry and its
credentials become placeholders, so the golden file holds no secret and fits any run.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

GOLDEN = Path(__file__).resolve().parent / "golden" / "oc_parity.json"
T = TypeVar("T")
# Fields of stored objects that differ on every run and say nothing about what oc did.
VOLATILE_KEYS = frozenset({"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink"})


class GoldenStore:
    """The golden file, loaded once per session; written back at the end of a recording session."""

    def __init__(self, path: Path = GOLDEN) -> None:
        self.path = path
        self.entries: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        self.recorded: dict[str, Any] = {}

    def save(self) -> None:
        if not self.recorded:
            return
        merged = {**self.entries, **self.recorded}
        self.path.parent.mkdir(exist_ok=True)
        self.path.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n", encoding="utf-8")


class OcReference:
    """oc's side of one parity test (``key``: the test's id without its execution path)."""

    def __init__(self, *, key: str, mode: str, store: GoldenStore, binary: str | None, kubeconfig: str) -> None:
        self.key = key
        self.mode = mode
        self.store = store
        self.binary = binary
        self.kubeconfig = kubeconfig
        self._calls = 0
        self._substitutions: list[tuple[str, str]] = []

    @property
    def live(self) -> bool:
        return self.mode != "golden"

    def substitute(self, actual: str, placeholder: str) -> None:
        """Store ``actual`` as ``placeholder`` (and read it back as this run's value)."""
        if actual:
            self._substitutions.append((actual, placeholder))

    def substitute_credentials(self, registry: str, user: str, password: str) -> None:
        self.substitute(base64.b64encode(f"{user}:{password}".encode()).decode(), "<registry-auth>")
        self.substitute(password, "<registry-password>")
        self.substitute(registry, "<registry>")

    def _normalise(self, value: Any) -> Any:
        text = json.dumps(_without_volatile(value), sort_keys=True)
        for actual, placeholder in sorted(self._substitutions, key=lambda pair: -len(pair[0])):
            text = text.replace(actual, placeholder)
        return json.loads(text)

    def _denormalise(self, value: Any) -> Any:
        text = json.dumps(value)
        for actual, placeholder in self._substitutions:
            text = text.replace(placeholder, actual)
        return json.loads(text)

    def _exchange(self, label: str, produce: Callable[[], Any]) -> Any:
        self._calls += 1
        entry_key = f"{self.key} #{self._calls} {label}"
        if not self.live:
            if entry_key not in self.store.entries:
                raise AssertionError(
                    f"no golden entry {entry_key!r} in {self.store.path}: record it with real oc "
                    "(SANDBOX_OPENSHIFT_BIN=DIR with DIR/oc, SANDBOX_RECORD_GOLDEN=1)"
                )
            return self._denormalise(self.store.entries[entry_key])
        value = produce()
        normalised = self._normalise(value)
        if self.mode == "record":
            self.store.recorded[entry_key] = normalised
        elif entry_key in self.store.entries:
            assert normalised == self.store.entries[entry_key], f"oc no longer does what was recorded: {entry_key}"
        return value

    def oc(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``oc --kubeconfig <admin> ARGS`` (live), or answer as it answered (golden)."""

        def run() -> dict[str, Any]:
            assert self.binary is not None
            completed = subprocess.run(
                [self.binary, "--kubeconfig", self.kubeconfig, *args],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                env=env,
            )
            return {"returncode": completed.returncode, "stdout": completed.stdout, "stderr": completed.stderr}

        answer = self._exchange("oc " + " ".join(self._normalise(list(args))), run)
        completed = subprocess.CompletedProcess(["oc", *args], answer["returncode"], answer["stdout"], answer["stderr"])
        if check:
            assert completed.returncode == 0, f"oc {' '.join(args)}: {completed.stdout}{completed.stderr}"
        return completed

    def observe(self, label: str, read: Callable[[], T]) -> T:
        """What oc left, read back (live) or as it was read back from real oc (golden)."""
        return self._exchange(label, read)  # type: ignore[no-any-return]


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_volatile(item) for key, item in value.items() if key not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_without_volatile(item) for item in value]
    return value


def reference_mode(env: dict[str, str]) -> str:
    if "SANDBOX_OC" not in env:
        return "golden"
    return "record" if os.environ.get("SANDBOX_RECORD_GOLDEN") == "1" else "live"


def oc_side_key(node_id: str, parameters: Sequence[str] = ("module-", "in_process-", "-module", "-in_process")) -> str:
    """The test's id without the execution path: oc's side is the same for both."""
    name = node_id.split("::", 1)[-1]
    for part in parameters:
        name = name.replace(f"[{part.strip('-')}]", "").replace(part, "")
    return name
