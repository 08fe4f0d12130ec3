# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the connection options; the argument spec is
``_kube/connection_options.connection_argument_spec``."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
requirements:
  - PyYAML, only for a kubeconfig file in YAML other than the block style C(kubectl) and C(oc) write. It comes
    with ansible-core; only a managed host running the shipped module may lack it.
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, several paths separated by C(:) (merged like C(kubectl) merges E(KUBECONFIG), the
        first file that defines a name wins), or the kubeconfig itself as a dictionary.
      - When neither this option, O(context) nor O(host) with credentials is given, the files in the
        E(KUBECONFIG) environment variable are used, else C(~/.kube/config), else the in-cluster service account
        (E(KUBERNETES_SERVICE_HOST), E(KUBERNETES_SERVICE_PORT) and
        C(/var/run/secrets/kubernetes.io/serviceaccount/)).
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable.
    type: raw
  context:
    description:
      - The name of a context in the kubeconfig. Defaults to the kubeconfig's C(current-context).
      - The context's namespace is the default namespace of modules that take a namespace.
      - Can also be set with the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  host:
    description:
      - URL of the API server, for example C(https://api.cluster.example.com:6443).
      - With O(api_key), O(username) and O(password), or O(client_cert) and O(client_key), no kubeconfig is read.
        Otherwise it replaces the server of the selected kubeconfig context or of the in-cluster configuration.
      - Can also be set with the E(K8S_AUTH_HOST) environment variable.
    type: str
  api_key:
    description:
      - Bearer token to authenticate with, for example the output of C(oc whoami --show-token).
      - Given credentials replace those of the kubeconfig user.
      - Can also be set with the E(K8S_AUTH_API_KEY) environment variable.
    type: str
  username:
    description:
      - User name for HTTP basic authentication, used with O(password).
      - OpenShift's API server does not accept basic authentication; log in with C(oc login) and use O(api_key)
        or a kubeconfig instead.
      - Can also be set with the E(K8S_AUTH_USERNAME) environment variable.
    type: str
  password:
    description:
      - Password for HTTP basic authentication, used with O(username).
      - Can also be set with the E(K8S_AUTH_PASSWORD) environment variable.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. When not set, the kubeconfig's
        C(insecure-skip-tls-verify) decides, and certificates are verified when it is absent.
      - Certificates are verified against the kubeconfig cluster's CA (or O(ca_cert)) and its C(tls-server-name). When
        verification fails the task fails before any request or credential is sent.
      - With verification off the task runs with a warning, since anyone on the network path could pose as the API
        server and receive the credentials. Prefer O(ca_cert).
      - Can also be set with the E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL) environment variable.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to the CA certificate(s) that signed the API server's certificate; replaces the kubeconfig's CA.
        The full chain must be given.
      - Can also be set with the E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT) environment variable.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate to authenticate with, used with O(client_key).
      - Can also be set with the E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE) environment variable.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the private key of O(client_cert).
      - Can also be set with the E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE) environment variable.
    type: path
    aliases: [key_file]
  proxy:
    description:
      - URL of an HTTP proxy to reach the API server through (C(http://[user:password@]host:port)); HTTPS goes
        through a C(CONNECT) tunnel. Replaces the kubeconfig cluster's C(proxy-url).
      - The E(HTTPS_PROXY) and E(NO_PROXY) environment variables are not read; use this option and O(no_proxy).
      - Can also be set with the E(K8S_AUTH_PROXY) environment variable.
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains, IP addresses and CIDR ranges reached without the proxy, for example
        C(localhost,.cluster.local,10.0.0.0/8). C(example.com) also matches its subdomains, C(.example.com) only
        its subdomains, C(*) every host.
      - Can also be set with the E(K8S_AUTH_NO_PROXY) environment variable.
    type: str
  impersonate_user:
    description:
      - User to act as (C(Impersonate-User) header), like C(oc --as). The authenticated user needs the
        C(impersonate) permission.
      - Can also be set with the E(K8S_AUTH_IMPERSONATE_USER) environment variable.
    type: str
  impersonate_groups:
    description:
      - Groups to act as (C(Impersonate-Group) headers), like C(oc --as-group). Requires O(impersonate_user).
      - Can also be set with the E(K8S_AUTH_IMPERSONATE_GROUPS) environment variable, comma-separated.
    type: list
    elements: str
  request_timeout:
    description:
      - Seconds to wait for the API server to connect and to answer each request.
      - Can also be set with the E(K8S_AUTH_REQUEST_TIMEOUT) environment variable.
    type: float
    default: 30
notes:
  - Connection options use the names and E(K8S_AUTH_*) environment variables of M(kubernetes.core.k8s); the
    Python C(kubernetes) library is not needed.
  - Tokens, passwords and private keys read from the kubeconfig, token files or exec credential plugins are hidden
    from the module output.
  - Exec credential plugins (C(client.authentication.k8s.io/v1) and C(v1beta1)) run once per task, without a
    terminal. C(auth-provider) entries are not supported; use an exec plugin or a token.
"""
