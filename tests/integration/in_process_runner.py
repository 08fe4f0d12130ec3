# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs a module's task the way its action plugin does in the controller's process, for the integration tests.

    python in_process_runner.py <module> <args.json>

``args.json`` is what a shipped module reads (``{"ANSIBLE_MODULE_ARGS": {...}}``); the result is printed as the
module would print it. The action plugin adds only the choice of path and the task's environment, which the
playbook tests of test_execution_paths.py exercise through ansible-playbook.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from ansible_collections.openshift_ops.images.plugins.plugin_utils._in_process import run_in_process

INTERFACES = "ansible_collections.openshift_ops.images.plugins.module_utils"


def main() -> None:
    name, args_file = sys.argv[1], sys.argv[2]
    interface = getattr(importlib.import_module(f"{INTERFACES}._{name}.interface"), name.upper())
    args = json.loads(Path(args_file).read_text(encoding="utf-8"))["ANSIBLE_MODULE_ARGS"]
    internal = {key: args.pop(key) for key in list(args) if key.startswith("_ansible_")}
    result = run_in_process(
        interface,
        internal.get("_ansible_module_name", name),
        args,
        check_mode=bool(internal.get("_ansible_check_mode")),
        diff=bool(internal.get("_ansible_diff")),
        environment={},
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
