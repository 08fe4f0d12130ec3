# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads the ``auth_file`` option's file on the managed host: the one file read of the registry credential options."""

from __future__ import annotations

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError


def read_text_file(path: str) -> str:
    """Read an auth file on the managed host; the error names the path and the reason, never content."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InvalidInputError(f"auth_file {path} does not exist on the managed host") from None
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"auth_file {path} is not UTF-8 text; give a docker config.json or podman auth.json"
        ) from None
    except OSError as error:
        raise InvalidInputError(f"auth_file {path} cannot be read: {error.strerror or error}") from None
