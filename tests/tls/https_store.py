#!/usr/bin/env python3
"""The store's HTTPS client against a DynamoDB endpoint over TLS.

Every other test talks to moto_server over plain HTTP, so this one checks the
TLS half of the DynamoDB client (rustls on ring, the compiled-in AWS roots,
or the roots SSL_CERT_FILE / SSL_CERT_DIR name): a local HTTPS server with a
certificate from a test CA answers every call as DynamoDB answers for a
missing table, and

  1. with SSL_CERT_FILE naming that CA, `local-api --init-table` reaches it
     (its CreateTable gets the server's answer, so the handshake succeeded);
  2. with neither variable set (the compiled-in roots), the same call fails
     in the handshake (the certificate is not trusted: nothing reaches the
     server).

    python tests/tls/https_store.py target/debug/local-api

Needs the `cryptography` package (moto brings it).
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import os
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MARKER = "answered over TLS"


def certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class DynamoDbLike(http.server.BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = ('{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
                f'"message":"{MARKER}"}}').encode()
        self.send_response(400)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def run_local_api(binary: str, port: int, cert_file: str | None) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR") and not k.startswith("AWS_")}
    env.update({
        "TABLE_NAME": "tls-check",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "tls",
        "AWS_SECRET_ACCESS_KEY": "tls",
        "AWS_ENDPOINT_URL_DYNAMODB": f"https://127.0.0.1:{port}",
        "AWS_MAX_ATTEMPTS": "1",
        "JWT_HS256_SECRET": "tls-check",
    })
    if cert_file:
        env["SSL_CERT_FILE"] = cert_file
    done = subprocess.run([binary, "--init-table", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = sys.argv[1]
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "access-requests test CA")])
    ca = certificate("access-requests test CA", ca_key, ca_name, ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate("localhost", leaf_key, ca_name, ca_key, ca=False)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "ca.pem").write_bytes(pem(ca))
        (tmp_path / "leaf.pem").write_bytes(pem(leaf))
        (tmp_path / "leaf.key").write_bytes(leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DynamoDbLike)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        failures = []
        try:
            trusted = run_local_api(binary, port, str(tmp_path / "ca.pem"))
            if MARKER not in trusted:
                failures.append(f"with the test CA trusted, the call did not reach the server:\n{trusted}")
            reached = DynamoDbLike.calls
            untrusted = run_local_api(binary, port, None)
            if MARKER in untrusted or DynamoDbLike.calls != reached:
                failures.append(f"with the compiled-in roots, an untrusted certificate was accepted:\n{untrusted}")
            elif "dispatch failure" not in untrusted:
                failures.append(f"with the compiled-in roots, not a connection failure:\n{untrusted}")
        finally:
            server.shutdown()
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if not failures:
        print("ok: the DynamoDB client speaks TLS to a trusted endpoint and refuses an untrusted one")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
