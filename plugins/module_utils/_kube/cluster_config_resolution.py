# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolving the ``ClusterConfig`` of a run from its parsed ``ConnectionOptions``: where it comes from (the options
alone, a kubeconfig, the in-cluster service account), the options over it, the exec plugin's first run, and what
the task should warn about its connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
    KubeAuthConfigError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import (
    ClusterConfig,
    normalize_server_url,
    read_named_file,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.in_cluster import (
    SERVICE_ACCOUNT_DIR,
    config_in_cluster,
    in_cluster_available,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.kubeconfig import config_from_kubeconfig

# AnsibleModule applies the environment fallbacks before the core sees the options, so the origin names all three.
VALIDATE_CERTS_OFF = "validate_certs: false, from the option or K8S_AUTH_VALIDATE_CERTS/K8S_AUTH_VERIFY_SSL"


def resolve_cluster_config(
    options: ConnectionOptions,
    environ: Mapping[str, str] | None = None,
    *,
    service_account_dir: str = SERVICE_ACCOUNT_DIR,
) -> ClusterConfig:
    """Resolve where to connect and how to authenticate.

    Order: explicit options; then the ``kubeconfig`` option, ``KUBECONFIG`` or ``~/.kube/config``; then the
    in-cluster service account. Options override what a kubeconfig says; given credentials replace the kubeconfig
    user's credentials entirely.
    """
    environ = os.environ if environ is None else environ
    config = apply_options(_config_found(options, environ, service_account_dir), options)
    if config.refresh_credentials is not None:  # the exec plugin runs once before the first request
        config = config.with_exec_credential(config.refresh_credentials())
    if config.impersonate_groups and not config.impersonate_user:
        raise InvalidInputError("impersonate_groups needs impersonate_user: the API server only accepts both together")
    return config._replace(warnings=transport_warnings(config))


def _config_found(options: ConnectionOptions, environ: Mapping[str, str], service_account_dir: str) -> ClusterConfig:
    """The configuration the options point at, before the options themselves are applied over it."""
    wants_kubeconfig = options.kubeconfig is not None or options.context is not None
    if not wants_kubeconfig and options.host and options.has_credentials:
        return ClusterConfig(server=normalize_server_url(options.host, where="host"))
    looked_at: list[str] = []
    config = config_from_kubeconfig(options.kubeconfig, options.context, environ, looked_at, required=wants_kubeconfig)
    if config is not None:
        return config
    if in_cluster_available(environ, service_account_dir):
        return config_in_cluster(environ, service_account_dir)
    looked_at.append(f"the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT and {service_account_dir}/token)")
    if options.host:
        return ClusterConfig(server=normalize_server_url(options.host, where="host"))
    raise KubeAuthConfigError(
        "no cluster configuration found; looked at "
        + "; ".join(looked_at)
        + ". Log in with 'oc login', set the kubeconfig option (or K8S_AUTH_KUBECONFIG), or set host with api_key"
    )


def apply_options(config: ClusterConfig, options: ConnectionOptions) -> ClusterConfig:
    """Explicit options win over the kubeconfig or in-cluster values, as kubectl's flags do."""
    changes: dict[str, Any] = {"no_proxy": options.no_proxy, "request_timeout": options.request_timeout}
    overridden: list[str] = []
    if options.host:
        server = normalize_server_url(options.host, where="host")
        if server != config.server:
            changes["tls_server_name"] = None  # it named the kubeconfig's server
        changes["server"] = server
        overridden.append("host")
    if options.ca_cert:
        ca_data = read_named_file(options.ca_cert, "ca_cert", "fix the ca_cert option (or K8S_AUTH_SSL_CA_CERT)")
        changes.update(ca_data=ca_data, ca_origin=f"ca_cert {options.ca_cert}", verify_tls=True, verify_origin="")
        overridden.append("ca_cert")
    if options.validate_certs is not None:
        changes.update(
            verify_tls=options.validate_certs, verify_origin="" if options.validate_certs else VALIDATE_CERTS_OFF
        )
        overridden.append("validate_certs")
    if options.proxy:
        changes["proxy"] = options.proxy
        overridden.append("proxy")
    if options.has_credentials:
        changes.update(
            token=options.api_key,
            username=options.username,
            password=options.password,
            client_cert_data=None,
            client_key_data=None,
            refresh_credentials=None,  # the kubeconfig user's exec plugin is not run
            user_label=options.username or ("the api_key" if options.api_key else "the client certificate"),
        )
        if options.client_cert and options.client_key:
            changes["client_cert_data"] = read_named_file(
                options.client_cert, "client_cert", "fix the client_cert option"
            )
            changes["client_key_data"] = read_named_file(options.client_key, "client_key", "fix the client_key option")
        overridden.append("credentials")
    if options.impersonate_user:
        changes["impersonate_user"] = options.impersonate_user
    if options.impersonate_groups is not None:
        changes["impersonate_groups"] = options.impersonate_groups
    if overridden and config.source != "module options":
        changes["source"] = f"{config.source} (overridden by the module options: {', '.join(overridden)})"
    return config._replace(**changes)


def transport_warnings(config: ClusterConfig) -> tuple[str, ...]:
    """What a task should warn about its connection: no one can tell the real API server from an impostor when
    verification is off, and plain HTTP carries the credentials unencrypted."""
    has_credentials = bool(
        config.token or config.username is not None or config.client_cert_data or config.refresh_credentials
    )
    if urlsplit(config.server).scheme == "http":
        if not has_credentials:
            return ()
        return (
            f"the API server {config.server} is plain HTTP: the credentials of {config.user_label or 'the user'} "
            "cross the network unencrypted. Use the server's https:// URL",
        )
    if config.verify_tls:
        return ()
    return (
        f"TLS certificate verification of the API server {config.server} is off "
        f"({config.verify_origin or 'insecure'}): anyone on the network path can pose as the server and receive the "
        "credentials this task sends. Set ca_cert to the CA that signed the API server's certificate (as in "
        "'oc config view --raw') instead",
    )
