# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads the files the registry options name on the managed host (``auth_file``, ``registry_ca_cert``); an error
names the option, the path and the reason, never the content."""

from __future__ import annotations

from collections.abc import Callable

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError

AUTH_FILE_FIX = (
    "auth_file must be the path of a readable docker config.json or podman auth.json file on the managed host "
    "(for example ~/.docker/config.json or ${XDG_RUNTIME_DIR}/containers/auth.json)"
)
CA_FILE_FIX = "registry_ca_cert must be the path of a PEM file with the CA certificate(s) that signed the registries'"


def read_text_file(path: str) -> str:
    """The file as UTF-8 text; OSError and UnicodeDecodeError propagate for the caller to word."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _unreadable(option: str, path: str, error: Exception, fix: str, *, text_fix: str) -> InvalidInputError:
    if isinstance(error, UnicodeDecodeError):
        return InvalidInputError(f"{option} {path} is not UTF-8 text; {text_fix}")
    if isinstance(error, FileNotFoundError):
        return InvalidInputError(f"{option} {path} does not exist on the managed host; {fix}")
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return InvalidInputError(f"{option} {path} cannot be read: {reason}; {fix}")


def read_auth_file(path: str, *, read_text: Callable[[str], str] = read_text_file) -> str:
    """The text of the ``auth_file`` option's file."""
    try:
        return read_text(path)
    except (OSError, UnicodeDecodeError) as error:
        raise _unreadable(
            "auth_file", path, error, AUTH_FILE_FIX, text_fix="give a docker config.json or podman auth.json"
        ) from None


def read_ca_file(path: str, *, read_text: Callable[[str], str] = read_text_file) -> str:
    """The PEM text of the ``registry_ca_cert`` option's file, refused when it holds no certificate."""
    fix = f"{CA_FILE_FIX} TLS certificates"
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError) as error:
        raise _unreadable("registry_ca_cert", path, error, fix, text_fix="give a PEM file") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InvalidInputError(f"registry_ca_cert {path} holds no PEM certificate; {fix}")
    return text
