#!/usr/bin/env python3
"""A TLS endpoint on loopback in front of moto_server, for the cold-start bench:
the functions reach the store over TLS with kept-alive connections, as they
reach DynamoDB.

moto_server answers every request with `Connection: close`, so a client
opens a new TCP connection for each call, and a DynamoDB client's warm-up
(or any connection reuse) could never pay off against it. This front:

  - terminates TLS with a certificate chain shaped like DynamoDB's (an RSA
    2048 root, an RSA 2048 intermediate sent with the leaf, an RSA leaf for
    `localhost` and 127.0.0.1), from a test CA made for the run;
  - keeps each client connection open across requests (HTTP/1.1 keep-alive,
    ALPN `http/1.1`), as DynamoDB does;
  - forwards each request to moto on a new plain connection and hands the
    answer back without moto's `Connection: close`;
  - optionally logs each call (operation, request and response bodies) as a
    JSON line, which the bench reads to count request units;
  - optionally (`--rtt-ms`) puts a network's round trip between the client
    and itself: a TCP hop that relays each chunk half the round trip late in
    each direction, after one round trip for the TCP handshake.

    python bench/tls_front.py --upstream http://127.0.0.1:PORT --dir DIR [--log FILE]
        prints one JSON line {"port": ..., "ca": ".../ca.pem"} once it listens,
        then serves until SIGTERM/SIGINT
    python bench/tls_front.py --upstream http://127.0.0.1:PORT --check
        shows, with two requests on one http.client connection each, that moto
        closes the connection after every answer and that the front keeps it

Needs the `cryptography` package (moto brings it); the certificates are made
with tests/tls/https_store.py's helper.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import http.client
import importlib.util
import json
import signal
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _https_store():
    """tests/tls/https_store.py, for its certificate helper."""
    spec = importlib.util.spec_from_file_location("https_store", ROOT / "tests/tls/https_store.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_certificates(directory: Path) -> dict[str, Path]:
    """A root CA, an intermediate and a leaf for localhost/127.0.0.1, all RSA
    2048 (as DynamoDB's chain is). Returns the paths of ca.pem (the root, to
    trust), chain.pem (leaf + intermediate, what the server sends) and
    leaf.key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    helper = _https_store()

    def key():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    root_key, mid_key, leaf_key = key(), key(), key()
    root = helper.certificate("bench root CA", root_key, name("bench root CA"), root_key, ca=True)
    mid = helper.certificate("bench intermediate CA", mid_key, name("bench root CA"), root_key,
                             ca=True)
    leaf = helper.certificate("localhost", leaf_key, name("bench intermediate CA"), mid_key,
                              ca=False)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"ca": directory / "ca.pem", "chain": directory / "chain.pem",
             "key": directory / "leaf.key"}
    paths["ca"].write_bytes(helper.pem(root))
    paths["chain"].write_bytes(helper.pem(leaf) + helper.pem(mid))
    paths["key"].write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return paths


def server_context(chain: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    context.set_alpn_protocols(["http/1.1"])
    return context


HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}


def _headers(block: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = block.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return lines[0], fields


def _find(fields: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in fields if k.lower() == name), None)


def _operation(fields: list[tuple[str, str]]) -> str:
    """The DynamoDB operation a request names (its X-Amz-Target)."""
    return (_find(fields, "x-amz-target") or "").rpartition(".")[2]


class Front:
    """The proxy: one asyncio server, counters for the check, an optional log."""

    def __init__(self, upstream: str, log_path: Path | None):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.log = open(log_path, "a", buffering=1) if log_path else None
        self.connections = 0
        self.requests = 0

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return  # the client closed its connection
                request_line, fields = _headers(head[:-4])
                if (_find(fields, "transfer-encoding") or "").lower() == "chunked":
                    raise ValueError("chunked request bodies are not supported")
                body = await reader.readexactly(int(_find(fields, "content-length") or 0))
                began = time.perf_counter()
                status_line, answer_fields, answer = await self.forward(request_line, fields, body)
                upstream_ms = (time.perf_counter() - began) * 1000
                self.requests += 1
                # Logged before the answer leaves, so that a call is in the
                # log by the time its caller has the answer.
                if self.log is not None:
                    self.write_log(fields, body, status_line, answer, upstream_ms)
                out = [status_line.replace("HTTP/1.0", "HTTP/1.1", 1)]
                out += [f"{k}: {v}" for k, v in answer_fields if k.lower() not in HOP_BY_HOP]
                out.append(f"Content-Length: {len(answer)}")
                try:
                    writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + answer)
                    await writer.drain()
                except ConnectionError:
                    # The client gave up waiting (the SDK's attempt timeout)
                    # and closed the connection: an answer too late, not a
                    # fault of the front.
                    print(f"tls_front: {_operation(fields)} answered by the store after "
                          f"{upstream_ms:.0f} ms, when its client had already closed the "
                          "connection", file=sys.stderr, flush=True)
                    return
        finally:
            writer.close()

    async def forward(self, request_line: str, fields, body: bytes):
        """One request to moto on a new connection (moto closes it anyway)."""
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            method, target, _ = request_line.split(" ", 2)
            lines = [f"{method} {target} HTTP/1.1"]
            lines += [f"{k}: {v}" for k, v in fields if k.lower() not in HOP_BY_HOP]
            lines += [f"Content-Length: {len(body)}", "Connection: close"]
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await up_writer.drain()
            head = await up_reader.readuntil(b"\r\n\r\n")
            status_line, answer_fields = _headers(head[:-4])
            length = _find(answer_fields, "content-length")
            # By its length, not at the end of the stream: moto's server
            # closes a connection ~10 ms after its answer.
            answer = (await up_reader.readexactly(int(length)) if length is not None
                      else await up_reader.read())
        finally:
            up_writer.close()
        return status_line, answer_fields, answer

    def write_log(self, fields, body: bytes, status_line: str, answer: bytes,
                  upstream_ms: float) -> None:
        def as_json(data: bytes):
            try:
                return json.loads(data or b"{}")
            except ValueError:
                return None

        self.log.write(json.dumps({
            "t": time.time(),
            "operation": _operation(fields),
            "status": int(status_line.split(" ")[1]),
            "upstream_ms": round(upstream_ms, 2),
            "request": as_json(body),
            "response": as_json(answer),
        }) + "\n")


async def delayed_pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       delay_s: float) -> None:
    """Copies `reader` to `writer`, each chunk `delay_s` after it arrived (in
    order, without holding up the chunks behind it): one direction of a
    link with that one-way latency."""
    queue: asyncio.Queue = asyncio.Queue()

    async def deliver():
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    delivering = asyncio.ensure_future(deliver())
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + delay_s, data))
            if not data:
                break
    except ConnectionError:
        await queue.put((loop.time(), b""))
    await delivering


async def serve(front: Front, context: ssl.SSLContext, host: str, port: int,
                ready, rtt_ms: float = 0.0) -> None:
    server = await asyncio.start_server(front.serve_client, host, port if not rtt_ms else 0,
                                        ssl=context)
    if rtt_ms:
        # A plain TCP hop in front with half the round trip each way, so that
        # the TCP and TLS handshakes and every call pay a network's latency.
        inner = server.sockets[0].getsockname()[1]

        async def relay(reader, writer):
            try:
                up_reader, up_writer = await asyncio.open_connection(host, inner)
            except OSError:
                writer.close()
                return
            await asyncio.sleep(rtt_ms / 1000)  # the SYN / SYN-ACK round trip
            await asyncio.gather(delayed_pipe(reader, up_writer, rtt_ms / 2000),
                                 delayed_pipe(up_reader, writer, rtt_ms / 2000),
                                 return_exceptions=True)

        outer = await asyncio.start_server(relay, host, port)
        ready(outer.sockets[0].getsockname()[1])
    else:
        ready(server.sockets[0].getsockname()[1])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (RuntimeError, ValueError):
            pass  # not the main thread (the check)
    async with server:
        await stop.wait()


def list_tables_request(conn: http.client.HTTPConnection) -> http.client.HTTPResponse:
    conn.request("POST", "/", body=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20200101/us-east-1/dynamodb/"
                         "aws4_request, SignedHeaders=host, Signature=0",
    })
    return conn.getresponse()


def check(upstream: str) -> int:
    """Two requests on one http.client connection, to moto and to the front."""
    failures = []
    parts = urlsplit(upstream)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    seen = []
    for _ in range(2):
        response = list_tables_request(conn)
        response.read()
        seen.append((response.status, response.getheader("Connection"), conn.sock is None))
    conn.close()
    print(f"moto_server {upstream}: two requests on one http.client connection: "
          + "; ".join(f"status {s}, Connection: {c}, socket closed after it: {closed}"
                      for s, c, closed in seen))
    if not all(c and c.lower() == "close" and closed for _, c, closed in seen):
        failures.append("moto_server did not close the connection after each answer")

    with tempfile.TemporaryDirectory() as tmp:
        paths = make_certificates(Path(tmp))
        front = Front(upstream, None)
        started = threading.Event()
        port_box = []

        def ready(port):
            port_box.append(port)
            started.set()

        loop = asyncio.new_event_loop()
        context = server_context(paths["chain"], paths["key"])
        thread = threading.Thread(
            target=loop.run_until_complete,
            args=(serve(front, context, "127.0.0.1", 0, ready),), daemon=True)
        thread.start()
        if not started.wait(10):
            print("FAIL: the front did not start", file=sys.stderr)
            return 1
        client = ssl.create_default_context(cafile=str(paths["ca"]))
        conn = http.client.HTTPSConnection("localhost", port_box[0], context=client, timeout=10)
        seen, sockets = [], []
        for _ in range(2):
            response = list_tables_request(conn)
            response.read()
            sockets.append(conn.sock)
            seen.append((response.status, response.getheader("Connection")))
        version = conn.sock.version() if conn.sock else None
        conn.close()
        same = sockets[0] is not None and sockets[0] is sockets[1]
        print(f"TLS front (https://localhost:{port_box[0]}, {version}): two requests on one "
              f"http.client connection: "
              + "; ".join(f"status {s}, Connection: {c}" for s, c in seen)
              + f"; same socket for both: {same}; connections the front accepted: "
              f"{front.connections}, requests it served: {front.requests}")
        if not (same and front.connections == 1 and front.requests == 2
                and all(s == 200 and c is None for s, c in seen)):
            failures.append("the front did not keep the client connection alive")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="moto_server's URL, http://HOST:PORT")
    ap.add_argument("--dir", type=Path, help="where to write the certificates")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", type=Path, help="append one JSON line per call here")
    ap.add_argument("--rtt-ms", type=float, default=0.0,
                    help="a network round trip to add (default 0: loopback's)")
    ap.add_argument("--check", action="store_true",
                    help="show moto's Connection: close and the front's keep-alive, then exit")
    args = ap.parse_args()
    if args.check:
        return check(args.upstream)
    if args.dir is None:
        ap.error("--dir is required to serve")
    began = datetime.datetime.now()
    paths = make_certificates(args.dir)
    front = Front(args.upstream, args.log)

    def ready(port):
        print(json.dumps({"port": port, "ca": str(paths["ca"]),
                          "certificates_ms": (datetime.datetime.now() - began).total_seconds()
                          * 1000}), flush=True)

    asyncio.run(serve(front, server_context(paths["chain"], paths["key"]), args.host,
                      args.port, ready, args.rtt_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
