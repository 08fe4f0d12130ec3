# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command against the sandbox cluster: bring it up if it is not (building it the first time), run CMD with
the variables of `.sandbox/env.sh`, then stop the sandbox again if (and only if) this run started it and `--keep`
was not given. Exits with CMD's status.

    with_sandbox.py [--keep] -- CMD [ARG ...]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

import sandbox  # the launcher next to this file (a script's directory is on sys.path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running afterwards")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARG ...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (usage: with_sandbox.py [--keep] -- CMD [ARG ...])")

    started_here = False
    code = 1
    try:
        if not sandbox.is_up():
            with sandbox.errors_to_exit():
                # False when another run started it meanwhile: then it is not ours to stop.
                started_here = sandbox.up()
        # SANDBOX_ENV_FILE tells the test fixtures which sandbox this is (SANDBOX_STATE_DIR may move it).
        variables = sandbox.sandbox_support().parse_env_file(sandbox.ENV_FILE.read_text(encoding="utf-8"))
        env = {**os.environ, **variables, "SANDBOX_ENV_FILE": str(sandbox.ENV_FILE)}
        with subprocess.Popen(command, env=env) as process:
            try:
                code = process.wait()
            except KeyboardInterrupt:
                # The child got the terminal's SIGINT too; give it time to finish its own cleanup.
                process.send_signal(signal.SIGINT)
                code = process.wait()
    finally:
        if started_here and not args.keep:
            with sandbox.errors_to_exit():
                sandbox.down()
        elif started_here:
            sandbox.say("left running (--keep); stop it with `make sandbox-down`")
    if started_here and not args.keep and (changed := sandbox.machine_left_changed()):
        # The node must leave the machine as it found it (tests/sandbox/node.py): a difference fails the run.
        sandbox.say("the node left the machine changed:\n  " + "\n  ".join(changed))
        return code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
