# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records when each task starts and how it ended, for ``make bench`` (benchmarks/run.py).

The interval between the starts of two consecutive tasks is everything a task costs in a playbook: queueing the
worker, the action, the module if one is shipped, and handling the result. Written as JSON to
``$OPENSHIFT_OPS_BENCH_TIMER_OUT`` when the playbook ends.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: bench_timer
    type: aggregate
    short_description: task start times and outcomes for the benchmark
    description:
      - Benchmark tooling of openshift_ops.images, not part of the collection's plugins.
    requirements:
      - enabled with C(ANSIBLE_CALLBACKS_ENABLED=bench_timer)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tasks: list[dict[str, Any]] = []
        self._by_uuid: dict[str, dict[str, Any]] = {}

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        entry = {"name": task.get_name(), "wall": time.time(), "clock": time.perf_counter()}
        self._tasks.append(entry)
        self._by_uuid[task._uuid] = entry

    def _outcome(self, result: Any, status: str) -> None:
        entry = self._by_uuid.get(result._task._uuid)
        if entry is not None:
            entry["status"] = status
            entry["changed"] = bool(result._result.get("changed"))
            if status == "failed":
                entry["msg"] = str(result._result.get("msg", ""))[:500]

    def v2_runner_on_ok(self, result: Any) -> None:
        self._outcome(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._outcome(result, "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._outcome(result, "skipped")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        path = os.environ.get("OPENSHIFT_OPS_BENCH_TIMER_OUT")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"tasks": self._tasks, "end_wall": time.time(), "end_clock": time.perf_counter()}, handle)
