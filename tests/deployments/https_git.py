"""A git host over HTTPS for the token path: git's dumb HTTP protocol served from a bare
repository by a small TLS server that wants Basic authentication. Its certificate comes from a
CA made here, which the panel trusts through PANEL_GIT_CA_FILE."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ADDRESS = "127.0.0.1"


@dataclass
class HttpsGit:
    url: str
    ca_file: Path
    statuses: list[int] = field(default_factory=list)


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signing_key = issuer or (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=0), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ADDRESS))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _write_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _certificate("panel lab git CA", ca_key, None)
    server = _certificate(ADDRESS, server_key, (ca.subject, ca_key))
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, cert_file, key_file


@contextmanager
def serving(bare_repo: Path, user: str, token: str, folder: Path) -> Iterator[HttpsGit]:
    """Serve `bare_repo` at https://127.0.0.1:<port>/<name>; only `user:token` may read it."""
    subprocess.run(["git", "-C", str(bare_repo), "update-server-info"], check=True)
    ca_file, cert_file, key_file = _write_tls_files(folder)
    expected = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
    root = bare_repo.parent.resolve()
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.answer(401, b"", {"WWW-Authenticate": 'Basic realm="git"'})
                return
            wanted = (root / self.path.split("?")[0].lstrip("/")).resolve()
            if root not in wanted.parents or not wanted.is_file():
                self.answer(404, b"")
                return
            self.answer(200, wanted.read_bytes())

        def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            statuses.append(status)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((ADDRESS, 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield HttpsGit(f"https://{ADDRESS}:{port}/{bare_repo.name}", ca_file, statuses)
    finally:
        server.shutdown()
        server.server_close()
