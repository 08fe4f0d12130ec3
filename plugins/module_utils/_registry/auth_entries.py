# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One entry of an auth document: built exactly as ``kubectl create secret docker-registry`` builds it (or from a
ready ``auth``), and read as the kubelet reads it. Pure functions; errors never name a secret value.

``auth`` is base64 of ``user:password`` and also the value of a Basic Authorization header: it is encoded once, when
an entry is built, and decoded only where an entry read from a file or a secret must name its user and password.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError


class _MalformedAuth(ValueError):
    """Why an ``auth`` value is unusable; the message never holds the value."""


def _split_auth(auth: str) -> tuple[str, str]:
    """``(username, password)`` of a standard padded base64 ``user:password``, split at the first colon as the kubelet
    does, in one decode. Bytes that are not UTF-8 come back as U+FFFD; the checks work on the bytes."""
    if any(char.isspace() for char in auth):
        raise _MalformedAuth("holds whitespace or line breaks (encode with `base64 -w0`)")
    try:
        decoded = base64.b64decode(auth, validate=True)
    except (binascii.Error, ValueError):
        raise _MalformedAuth("is not standard base64 with padding") from None
    user, colon, password = decoded.partition(b":")
    if not colon:
        raise _MalformedAuth('does not decode to "user:password" (no colon)')
    return user.decode("utf-8", "replace"), password.decode("utf-8", "replace")


def _encode_auth(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def decode_auth(auth: str, *, where: str = "auth") -> tuple[str, str]:
    """``(username, password)`` from an ``auth`` value, or an error naming ``where`` and what is wrong with it."""
    try:
        return _split_auth(auth)
    except _MalformedAuth as problem:
        raise InvalidInputError(
            f'{where} {problem}; it must be base64 of "user:password" or the kubelet fails every pull that uses '
            'this pull secret ("unable to parse auth field")'
        ) from None


def entry_basic_credentials(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """The username and password the kubelet takes from an entry (``auth`` wins over the fields), or None."""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            return _split_auth(auth)
        except _MalformedAuth:
            return None
    username, password = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and (username or password):
        return username, password
    return None


class BasicAuth(NamedTuple):
    """An entry's credentials as a registry receives them: ``auth``, base64 of ``user:password`` (the value of an
    ``Authorization: Basic`` header), and the user it names, for messages."""

    username: str
    auth: str

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r})"  # never the credential


def entry_basic_auth(entry: Mapping[str, Any]) -> BasicAuth | None:
    """What the kubelet sends for an entry (``auth`` wins over the fields), or None when it holds no user and password.

    The ``auth`` of an entry goes out as it is: it already is the header's value. The user is the ``username`` field
    that kubectl and :func:`entry_from_credentials` write beside ``auth`` with the password; only an entry without
    those fields (docker's and podman's files) has its ``auth`` decoded, to name its user. Entries come from
    ``load_auth_document`` or the builders here, so their ``auth`` is well-formed.
    """
    auth = entry.get("auth")
    username, password = entry.get("username"), entry.get("password")
    if isinstance(auth, str) and auth:
        if isinstance(username, str) and username and isinstance(password, str):
            return BasicAuth(username, auth)
        basic = entry_basic_credentials(entry)
        return BasicAuth(basic[0], auth) if basic else None
    if isinstance(username, str) and isinstance(password, str) and (username or password):
        return BasicAuth(username, _encode_auth(username, password))
    return None


def entry_from_credentials(*, username: str, password: str, email: str | None = None) -> dict[str, str]:
    """The entry ``kubectl create secret docker-registry`` writes: username, password, email (when not empty), auth."""
    if not username:
        raise InvalidInputError("a registry username is required (or give auth instead of username and password)")
    if not password:
        raise InvalidInputError(
            f"the password for registry user {username!r} is empty; set the password (or token) of that user"
        )
    if ":" in username:
        raise InvalidInputError(
            f"registry username {username!r} contains ':'; the kubelet and containers/image split the credential at "
            "the first ':' so this user could never log in: use a user name without ':' (a robot account or token "
            "user of the registry)"
        )
    try:
        auth = _encode_auth(username, password)
    except UnicodeEncodeError:
        raise InvalidInputError(f"the credentials for registry user {username!r} are not valid UTF-8 text") from None
    entry = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = auth
    return entry


def entry_from_auth(auth: str, *, email: str | None = None) -> dict[str, str]:
    """A podman-style entry from a ready ``auth`` value (checked to be base64 of ``user:password``)."""
    decode_auth(auth)
    entry = {"email": email} if email else {}
    entry["auth"] = auth
    return entry
