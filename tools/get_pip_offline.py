"""Stand-in for the get-pip.py that ansible-test downloads from a host this machine cannot reach.

ansible-test bootstraps pip in each sanity venv by running this script with pip's install arguments; ensurepip
provides pip from the interpreter itself, and PyPI (which is reachable) provides the rest.
"""

from __future__ import annotations

import subprocess
import sys

DROPPED_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    install_args = [arg for arg in sys.argv[1:] if arg not in DROPPED_OPTIONS]
    if install_args:
        subprocess.check_call([sys.executable, "-m", "pip", "install", *install_args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
