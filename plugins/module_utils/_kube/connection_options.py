# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection option group: its argument spec, with kubernetes.core's names and ``K8S_AUTH_*`` variables, and
``ConnectionOptions``, the options parsed and checked once, before anything reads a file or connects.

Its documentation face is the doc fragment ``openshift_ops.images.connection``; keep the two in step.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS, env_fallback

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError

# Option -> environment variables, in the order kubernetes.core reads them (option name first, then the
# kubernetes-client name). ``ConnectionOptions.from_params`` reads the same table for options left unset.
CONNECTION_ENV_VARS: dict[str, tuple[str, ...]] = {
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "username": ("K8S_AUTH_USERNAME",),
    "password": ("K8S_AUTH_PASSWORD",),
    "validate_certs": ("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
    "ca_cert": ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    "client_cert": ("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"),
    "client_key": ("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"),
    "proxy": ("K8S_AUTH_PROXY",),
    "no_proxy": ("K8S_AUTH_NO_PROXY",),
    "impersonate_user": ("K8S_AUTH_IMPERSONATE_USER",),
    "impersonate_groups": ("K8S_AUTH_IMPERSONATE_GROUPS",),
    "request_timeout": ("K8S_AUTH_REQUEST_TIMEOUT",),
}

DEFAULT_REQUEST_TIMEOUT = 30.0

# What each argument spec type hands over, and how a value of another type is described in an error.
_SPEC_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "raw": ((str, dict), "a path (or paths separated by ':') or a kubeconfig dictionary"),
    "str": ((str,), "a string"),
    "path": ((str,), "a path"),
    "bool": ((bool,), "a boolean (true/false)"),
    "list": ((list, tuple), "a list of strings"),
    "float": ((int, float), "a number of seconds"),
}


def connection_argument_spec() -> dict[str, dict[str, Any]]:
    """A fresh argument spec for the connection options; merge it into a module's own spec with ``|``."""
    spec: dict[str, dict[str, Any]] = {
        "kubeconfig": {"type": "raw"},
        "context": {"type": "str"},
        "host": {"type": "str"},
        "api_key": {"type": "str", "no_log": True},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
        "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
        "client_cert": {"type": "path", "aliases": ["cert_file"]},
        # A path to the key, not the key itself.
        "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False},
        "proxy": {"type": "str"},
        "no_proxy": {"type": "str"},
        "impersonate_user": {"type": "str"},
        "impersonate_groups": {"type": "list", "elements": "str"},
        "request_timeout": {"type": "float", "default": DEFAULT_REQUEST_TIMEOUT},
    }
    for option, variables in CONNECTION_ENV_VARS.items():
        spec[option]["fallback"] = (env_fallback, list(variables))
    return spec


# Small records are NamedTuples: a module run creates these classes every time, and a dataclass costs ten times
# more to create (measured with benchmarks/run.py).


def redacted_repr(record: tuple[Any, ...], secrets: tuple[str, ...]) -> str:
    """``repr`` of a NamedTuple with the fields named in ``secrets`` shown as ``<hidden>`` when set."""
    fields = ", ".join(
        f"{name}={'<hidden>' if name in secrets and value else repr(value)}"
        for name, value in zip(record._fields, record, strict=True)  # type: ignore[attr-defined]
    )
    return f"{type(record).__name__}({fields})"


class ConnectionOptions(NamedTuple):
    """The connection options, typed and checked; ``None`` means not given."""

    kubeconfig: str | dict[str, Any] | None = None
    context: str | None = None
    host: str | None = None
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    validate_certs: bool | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    proxy: str | None = None
    no_proxy: str | None = None
    impersonate_user: str | None = None
    impersonate_groups: tuple[str, ...] | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key or self.username or self.password or self.client_cert or self.client_key)

    def __repr__(self) -> str:
        return redacted_repr(self, ("api_key", "password"))

    @classmethod
    def from_params(cls, params: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> ConnectionOptions:
        """The options in ``params``, checked without reading a file or connecting.

        ``params`` hold the types the argument spec gives them (``AnsibleModule`` and the in-process path validated
        them, ``K8S_AUTH_*`` fallbacks included). An option still unset is read from ``K8S_AUTH_*`` in ``environ``
        (``os.environ`` when None) and converted the way the argument spec converts it: callers that are not
        modules get the same fallbacks, and so does an option a task set to null.
        """
        environ = os.environ if environ is None else environ
        spec = connection_argument_spec()
        values: dict[str, Any] = {}
        from_environment: dict[str, str] = {}  # option -> the text its K8S_AUTH_* variable gave
        for option, variables in CONNECTION_ENV_VARS.items():
            spec_type = spec[option]["type"]
            expected, description = _SPEC_TYPES[spec_type]
            value = params.get(option)
            if value is None:
                text = next((environ[name] for name in variables if name in environ), None)
                if text is not None:
                    from_environment[option] = text
                    try:
                        value = DEFAULT_TYPE_VALIDATORS[spec_type](text)
                    except (TypeError, ValueError):
                        raise InvalidInputError(f"{'/'.join(variables)} must be {description}, got {text!r}") from None
            elif not isinstance(value, expected):
                raise InvalidInputError(f"{option} must be {description}, not {type(value).__name__}")
            values[option] = value

        timeout = values["request_timeout"]
        if timeout is None:
            timeout = DEFAULT_REQUEST_TIMEOUT
        elif not math.isfinite(timeout) or timeout <= 0:
            text = from_environment.get("request_timeout")
            where = "option request_timeout" if text is None else "/".join(CONNECTION_ENV_VARS["request_timeout"])
            raise InvalidInputError(f"{where} must be more than 0 seconds, got {timeout if text is None else text!r}")
        groups = values["impersonate_groups"]
        if groups is not None:
            # the argument spec splits "a, b" at the commas only
            groups = tuple(name for name in (str(item).strip() for item in groups) if name) or None
        options = cls(
            kubeconfig=None if values["kubeconfig"] == "" else values["kubeconfig"],
            context=values["context"] or None,
            host=values["host"] or None,
            api_key=values["api_key"] or None,
            username=values["username"] or None,
            password=values["password"] or None,
            validate_certs=values["validate_certs"],
            ca_cert=values["ca_cert"] or None,
            client_cert=values["client_cert"] or None,
            client_key=values["client_key"] or None,
            proxy=values["proxy"] or None,
            no_proxy=values["no_proxy"] or None,
            impersonate_user=values["impersonate_user"] or None,
            impersonate_groups=groups,
            request_timeout=float(timeout),
        )
        if (options.username is None) != (options.password is None):
            raise InvalidInputError("username and password must be given together (HTTP basic authentication)")
        if bool(options.client_cert) != bool(options.client_key):
            raise InvalidInputError("client_cert and client_key must be given together")
        if options.api_key and options.username is not None:
            raise InvalidInputError("give either api_key or username/password, not both")
        return options
