# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox's Docker Registry v2 token service (what quay.io and registry.redhat.io put in front of their
registries): checks the registry user's password with Basic auth and issues RS256 JWTs with the requested scope.

    token_service.py CONFIG.json

GET /token?service=S&scope=repository:NAME:ACTIONS (Basic auth) -> {"token", "access_token", "expires_in",
"issued_at"}; POST /token with an OAuth2 password grant (form) -> {"access_token", ...}. Wrong or missing
credentials -> 401. The JWT carries the signing certificate in ``x5c``; the registry trusts the CA that issued it
(``rootcertbundle``) and, being distribution 2.x, wants ``aud`` as a plain string.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hmac
import json
import secrets
import ssl
import sys
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_scopes(values: list[str]) -> list[dict[str, Any]]:
    """``repository:sandbox/hello:pull,push`` (several per parameter, space-separated) -> JWT access entries."""
    access: list[dict[str, Any]] = []
    for value in values:
        for scope in value.split():
            kind, _sep, rest = scope.partition(":")
            name, _sep, actions = rest.rpartition(":")
            if not kind or not name:
                raise ValueError(f"malformed scope {scope!r}")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
    return access


class TokenIssuer:
    def __init__(self, config: dict[str, Any]) -> None:
        self.issuer = config["issuer"]
        self.service = config["service"]
        self.user = config["user"]
        self._password = config["password"].encode()
        self.ttl = int(config.get("ttl", 300))
        key = serialization.load_pem_private_key(Path(config["signing_key"]).read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("the signing key must be RSA (RS256)")
        self._key = key
        cert = x509.load_pem_x509_certificate(Path(config["signing_cert"]).read_bytes())
        self._x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")]

    def check(self, user: str, password: str) -> bool:
        # Both compared in constant time, so neither a user name nor a password leaks through timing.
        return hmac.compare_digest(user.encode(), self.user.encode()) & hmac.compare_digest(
            password.encode(), self._password
        )

    def issue(self, *, subject: str, access: list[dict[str, Any]]) -> tuple[str, int, str]:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self._x5c}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + self.ttl,
            "nbf": now - 5,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        issued_at = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{signing_input}.{b64url(signature)}", self.ttl, issued_at


class Handler(BaseHTTPRequestHandler):
    server_version = "sandbox-token-service/1"
    issuer: TokenIssuer

    def log_message(self, format: str, *args: Any) -> None:
        # The request line only: query strings hold scopes, never credentials; headers are never logged.
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _unauthorized(self, message: str) -> None:
        self._reply(
            HTTPStatus.UNAUTHORIZED,
            {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
            {"WWW-Authenticate": 'Basic realm="sandbox-token-service"'},
        )

    def _basic_credentials(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None

    def _grant(self, *, user: str, password: str, service: str | None, scopes: list[str], oauth: bool) -> None:
        if not self.issuer.check(user, password):
            self._unauthorized("invalid username or password")
            return
        if service and service != self.issuer.service:
            self._reply(
                HTTPStatus.BAD_REQUEST, {"errors": [{"code": "DENIED", "message": f"unknown service {service}"}]}
            )
            return
        try:
            access = parse_scopes(scopes)
        except ValueError as error:
            self._reply(HTTPStatus.BAD_REQUEST, {"errors": [{"code": "DENIED", "message": str(error)}]})
            return
        token, ttl, issued_at = self.issuer.issue(subject=user, access=access)
        body: dict[str, Any] = {"access_token": token, "expires_in": ttl, "issued_at": issued_at}
        if oauth:
            body["scope"] = " ".join(scopes)
        else:
            body["token"] = token
        self._reply(HTTPStatus.OK, body)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/healthz":
            self._reply(HTTPStatus.OK, {"status": "ok"})
            return
        if url.path != "/token":
            self._reply(HTTPStatus.NOT_FOUND, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            return
        query = urllib.parse.parse_qs(url.query)
        credentials = self._basic_credentials()
        if credentials is None:
            self._unauthorized("this registry needs credentials: Basic auth on the token request")
            return
        self._grant(
            user=credentials[0],
            password=credentials[1],
            service=query.get("service", [""])[0] or None,
            scopes=query.get("scope", []),
            oauth=False,
        )

    def do_POST(self) -> None:
        if urllib.parse.urlsplit(self.path).path != "/token":
            self._reply(HTTPStatus.NOT_FOUND, {"errors": [{"code": "NOT_FOUND", "message": self.path}]})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        if (form.get("grant_type") or [""])[0] != "password":
            self._reply(HTTPStatus.BAD_REQUEST, {"error": "unsupported_grant_type"})
            return
        self._grant(
            user=(form.get("username") or [""])[0],
            password=(form.get("password") or [""])[0],
            service=form.get("service", [""])[0] or None,
            scopes=form.get("scope", []),
            oauth=True,
        )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    config = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    Handler.issuer = TokenIssuer(config)
    host, port = config["listen"]
    server = ThreadingHTTPServer((host, int(port)), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["tls_cert"], config["tls_key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stderr.write(f"token service for {config['service']} listening on https://{host}:{port}/token\n")
    sys.stderr.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
