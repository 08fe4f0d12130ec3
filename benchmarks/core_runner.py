# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One operation of a module's core in a process of its own, as the in-process path runs it (argument validation,
the core, masking), for the time and peak memory of the operation alone and, with ``--profile``, where its time
goes.

    python core_runner.py <module|none> <params.json> [--profile N]

Prints JSON: ``seconds`` (the operation), ``import_seconds``, ``maxrss_kib`` (the process's peak RSS),
``changed``, ``failed`` and, with ``--profile``, the N functions with the most cumulative time.
"""

from __future__ import annotations

import cProfile
import importlib
import io
import json
import pstats
import resource
import sys
import time
from pathlib import Path

INTERFACES = "ansible_collections.openshift_ops.images.plugins.module_utils"


def main() -> None:
    name, params_file = sys.argv[1], sys.argv[2]
    top = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--profile" else 0
    started = time.perf_counter()
    from ansible_collections.openshift_ops.images.plugins.plugin_utils._in_process import (  # noqa: PLC0415
        run_in_process,
    )

    report: dict[str, object] = {}
    if name != "none":
        interface = getattr(importlib.import_module(f"{INTERFACES}._{name}.interface"), name.upper())
        report["import_seconds"] = time.perf_counter() - started
        params = json.loads(Path(params_file).read_text(encoding="utf-8"))
        profiler = cProfile.Profile() if top else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = run_in_process(interface, name, params, check_mode=False, diff=False, environment={})
        if profiler:
            profiler.disable()
        report["seconds"] = time.perf_counter() - started
        report["changed"] = bool(result.get("changed"))
        report["failed"] = bool(result.get("failed"))
        if result.get("failed"):
            report["msg"] = str(result.get("msg", ""))[:400]
        if profiler:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
            report["profile"] = text.getvalue()
    report["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(report))


if __name__ == "__main__":
    main()
