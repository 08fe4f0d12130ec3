# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the sandbox launcher generates at each start, as pure functions: its PKI, kubeconfigs and YAML files.

Kept apart from sandbox.py because it needs cryptography and PyYAML, which `sandbox.py down`/`status` do not.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def to_yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False)


def make_pki(*, token_signer: str, node_name: str) -> dict[str, bytes]:
    """The sandbox's PKI as file name -> PEM bytes (``*.key`` files are secret); ``token_signer`` names the
    certificate the registry token service signs with."""
    files: dict[str, bytes] = {}
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=365)

    def save_key(name: str, key: Any) -> None:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        files[f"{name}.key"] = pem

    def save_cert(name: str, cert: x509.Certificate) -> None:
        files[f"{name}.crt"] = cert.public_bytes(serialization.Encoding.PEM)

    def subject(common_name: str, organization: str | None = None) -> x509.Name:
        parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if organization:
            parts.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        return x509.Name(parts)

    def make_ca(common_name: str) -> tuple[Any, x509.Name, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = subject(common_name)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return key, name, cert

    ca_key, ca_name, ca_cert = make_ca("openshift_ops.images sandbox CA")
    save_key("ca", ca_key)
    save_cert("ca", ca_cert)
    # kube-apiserver signs what it proxies to aggregated servers with a client certificate of its own CA.
    front_proxy_key, front_proxy_name, front_proxy_cert = make_ca("openshift_ops.images sandbox front-proxy CA")
    save_key("front-proxy-ca", front_proxy_key)
    save_cert("front-proxy-ca", front_proxy_cert)

    def issue(
        name: str,
        common_name: str,
        *,
        organization: str | None = None,
        server: bool,
        rsa_key: bool = False,
        dns_names: tuple[str, ...] = (),
        signer: tuple[Any, x509.Name] | None = None,
    ) -> None:
        signer_key, signer_name = signer or (ca_key, ca_name)
        key: Any = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject(common_name, organization))
            .issuer_name(signer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=rsa_key,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
        )
        if server:
            names: list[x509.GeneralName] = [x509.DNSName(n) for n in (*dns_names, "localhost")]
            names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        save_key(name, key)
        save_cert(name, builder.sign(signer_key, hashes.SHA256()))

    issue(
        "apiserver",
        "kube-apiserver",
        server=True,
        dns_names=("kubernetes", "kubernetes.default", "kubernetes.default.svc"),
    )
    issue("registry", "sandbox-registry", server=True)
    issue("admin", "system:admin", organization="system:masters", server=False)
    # Controllers run with the manager's own identity (--use-service-account-credentials=false), so it needs every
    # right its controllers use (namespace deletion deletes every resource type): system:masters, as envtest does.
    issue("kcm", "system:kube-controller-manager", organization="system:masters", server=False)
    # The token service signs RS256 JWTs; the registry trusts the CA (rootcertbundle) and finds the cert in x5c.
    issue("token-signer", token_signer, server=False, rsa_key=True)
    # The real OpenShift servers. kube-aggregator dials openshift-apiserver at 127.0.0.1 with the TLS server name
    # of its Service, api.openshift-apiserver.svc; on OpenShift both run as service accounts bound to
    # cluster-admin, system:masters client certificates are the loopback equivalent.
    issue(
        "openshift-apiserver",
        "api.openshift-apiserver.svc",
        server=True,
        dns_names=("api.openshift-apiserver.svc", "api.openshift-apiserver.svc.cluster.local"),
    )
    issue(
        "openshift-controller-manager",
        "controller-manager.openshift-controller-manager.svc",
        server=True,
        dns_names=(
            "controller-manager.openshift-controller-manager.svc",
            "controller-manager.openshift-controller-manager.svc.cluster.local",
        ),
    )
    issue("openshift-apiserver-client", "system:openshift-apiserver", organization="system:masters", server=False)
    issue("ocm-client", "system:openshift-controller-manager", organization="system:masters", server=False)
    issue("front-proxy-client", "front-proxy-client", server=False, signer=(front_proxy_key, front_proxy_name))
    # The node (tests/sandbox/node.py): a kubelet identified as Kubernetes' Node authorizer expects, its serving
    # certificate, and kube-scheduler's client certificate (bound by the bootstrap role system:kube-scheduler).
    issue("kubelet-client", f"system:node:{node_name}", organization="system:nodes", server=False)
    issue("kubelet-serving", node_name, server=True, dns_names=(node_name,))
    issue("scheduler-client", "system:kube-scheduler", server=False)
    sa_key = rsa.generate_private_key(65537, 2048)
    save_key("sa", sa_key)
    files["sa.pub"] = sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return files


def kubeconfig(*, server: str, ca_pem: bytes, user: str, namespace: str = "default", **credentials: str) -> str:
    """A kubeconfig with one context (CA inline, as `oc login` and the installer write them)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "sandbox",
                    "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()},
                }
            ],
            "users": [{"name": user, "user": credentials}],
            "contexts": [
                {"name": f"{user}@sandbox", "context": {"cluster": "sandbox", "user": user, "namespace": namespace}}
            ],
            "current-context": f"{user}@sandbox",
            "preferences": {},
        },
        sort_keys=False,
    )
