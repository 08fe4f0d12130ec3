"""A test certificate authority, generated with ``cryptography``: server and client certificates signed by it,
server TLS contexts for the loopback servers of the tests, and the error a client meets when verification fails.
Shared by the unit and the integration tests."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def write(self, path: Path) -> str:
        """The CA certificate as a PEM file at ``path`` (for ``ca_file`` / ``ca_cert``); returns the path."""
        path.write_text(self.pem, encoding="ascii")
        return str(path)

    def issue(self, *, dns: tuple[str, ...] = (), ips: tuple[str, ...] = ()) -> tuple[str, str]:
        """A server certificate for ``dns`` and ``ips``: (certificate PEM, key PEM)."""
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        return self._sign((dns or ips)[0], names, ExtendedKeyUsageOID.SERVER_AUTH)

    def issue_client(self, common_name: str) -> tuple[str, str]:
        """A client certificate for ``common_name``: (certificate PEM, key PEM)."""
        return self._sign(common_name, [], ExtendedKeyUsageOID.CLIENT_AUTH)

    def _sign(self, common_name: str, names: list[x509.GeneralName], purpose: x509.ObjectIdentifier) -> tuple[str, str]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            _builder(_name(common_name), self.certificate.subject)
            .public_key(key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())
        return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"), key_pem(key)


def new_authority(common_name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    certificate = (
        _builder(name, name)
        .public_key(key.public_key())
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
        .sign(key, hashes.SHA256())
    )
    return Authority(key, certificate)


def certificate_error() -> ssl.SSLCertVerificationError:
    """The error ``ssl`` raises for a server certificate no trusted CA signed, as a client meets it."""
    error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.verify_message = "unable to get local issuer certificate"
    error.verify_code = 20
    return error


def server_context(directory: Path, certificate_and_key: tuple[str, str]) -> ssl.SSLContext:
    """A server-side TLS context with that certificate; ``ssl`` loads it from a file written in ``directory``."""
    chain = directory / f"server-{os.urandom(4).hex()}.pem"
    chain.write_text(certificate_and_key[0] + certificate_and_key[1], encoding="ascii")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return context


def loopback_tls(directory: Path, authority: Authority) -> tuple[Callable[[], ssl.SSLContext], str]:
    """A maker of server contexts for 127.0.0.1, each with a fresh certificate ``authority`` signed, and the
    authority's PEM text for ``ca_data``."""
    return (lambda: server_context(directory, authority.issue(ips=("127.0.0.1",)))), authority.pem
