# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection option group: its argument spec, with kubernetes.core's names and ``K8S_AUTH_*`` variables.

Its documentation face is the doc fragment ``openshift_ops.images.connection``; keep the two in step.
"""

from __future__ import annotations

from typing import Any

from ansible.module_utils.common.parameters import env_fallback

# Option -> environment variables, in the order kubernetes.core reads them (option name first, then the
# kubernetes-client name). ``resolve_cluster_config`` reads the same table for callers that are not modules.
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
