#!/usr/bin/env python3
"""A fault-injecting proxy between a DynamoDB client and a DynamoDB-compatible
server on loopback (the test command's moto_server).

On a configurable fraction of calls (seedable) it answers, instead of the
server, the way DynamoDB fails:

    throttling     400 ThrottlingException
    provisioned    400 ProvisionedThroughputExceededException
    internal       500 InternalServerError
    latency        a delay, then the call goes through (sometimes past the
                   client's attempt timeout: the write may land after the
                   client gave up on it)
    drop_before    the connection is closed before the call is forwarded
    drop_after     the call is forwarded (a write lands) and the connection
                   is closed instead of answering
    partial_batch  a BatchGetItem answer with some of its keys moved to
                   UnprocessedKeys (only BatchGetItem calls of 2+ keys)

TransactWriteItems retries are handled in one of two modes: replaying
`ClientRequestToken` as DynamoDB does (a repeat of a token whose call
succeeded in the last 10 minutes answers success without applying anything
again; the same token with other items answers
IdempotentParameterMismatchException), or forwarding every call as moto does.

Loopback only (it listens on 127.0.0.1 and refuses a non-loopback upstream),
and bounded: it stops serving after `max_calls` proxied calls or
`max_seconds`, whichever comes first.

`GET /__faults` answers its configuration and counters as JSON; `POST
/__faults` with a JSON object changes `enabled`, `rate`, `replay_tokens`, and
`force`: faults for the next calls of an operation whatever the rate, e.g.
`{"force": {"write": ["drop_after", "drop_after"]}}` ("write": PutItem,
DeleteItem, UpdateItem or TransactWriteItems; "pass" lets one call through).

    python tests/faults/proxy.py --upstream http://127.0.0.1:5000 --rate 0.2 --seed 7

Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import http.server
import ipaddress
import json
import random
import socket
import sys
import threading
import time
import urllib.parse
import zlib
from collections import Counter

KINDS = (
    "throttling",
    "provisioned",
    "internal",
    "latency",
    "drop_before",
    "drop_after",
    "partial_batch",
)
WRITES = {"PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems"}
# DynamoDB keeps a ClientRequestToken for 10 minutes.
TOKEN_WINDOW_SECS = 600
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
# Headers not copied between the two legs (hop-by-hop, or recomputed).
HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FaultProxy:
    """The proxy: `start()` serves in a thread, `stop()` ends it."""

    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.2,
        seed: int = 1,
        kinds: tuple[str, ...] = KINDS,
        replay_tokens: bool = True,
        enabled: bool = False,
        latency_ms: tuple[int, int] = (50, 400),
        slow_latency_ms: int = 1700,
        slow_share: float = 0.25,
        max_calls: int = 100_000,
        max_seconds: float = 900.0,
        port: int = 0,
    ) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or not parsed.hostname or not _is_loopback(parsed.hostname):
            raise ValueError(f"upstream must be http on loopback, got {upstream!r}")
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {KINDS}")
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self.rate = rate
        self.kinds = tuple(kinds)
        self.replay_tokens = replay_tokens
        self.enabled = enabled
        self.forced: dict[str, list[str]] = {}
        self.latency_ms = latency_ms
        self.slow_latency_ms = slow_latency_ms
        self.slow_share = slow_share
        self.max_calls = max_calls
        self.max_seconds = max_seconds
        self._rng = random.Random(seed)
        self.seed = seed
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.faults_by_operation: Counter[str] = Counter()
        self.token_replays = 0
        self.token_mismatches = 0
        # token -> (items hash, time of success, answer body)
        self._tokens: dict[str, tuple[str, float, bytes]] = {}
        self._token_locks: dict[str, threading.Lock] = {}
        self._stopped = threading.Event()
        self._started_at = 0.0
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    # ----------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FaultProxy":
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.max_seconds, self._expire, args=("time",))
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer:
            self._timer.cancel()
        if not self._stopped.is_set():
            self._stopped.set()
            self._server.shutdown()
        self._server.server_close()

    def _expire(self, why: str) -> None:
        if not self._stopped.is_set():
            print(f"fault-proxy: stopping: {why} bound reached", file=sys.stderr, flush=True)
            self._stopped.set()
            threading.Thread(target=self._server.shutdown, daemon=True).start()

    # ------------------------------------------------------------- control
    def configure(self, **changes) -> None:
        with self._lock:
            for name in ("enabled", "rate", "replay_tokens"):
                if name in changes:
                    setattr(self, name, changes[name])
            if "force" in changes:
                forced = {op: list(kinds) for op, kinds in dict(changes["force"]).items()}
                unknown = {k for kinds in forced.values() for k in kinds} - set(KINDS) - {"pass"}
                if unknown:
                    raise ValueError(f"unknown fault kinds {sorted(unknown)}")
                self.forced = forced

    def stats(self) -> dict:
        with self._lock:
            return {
                "enabled": self.enabled,
                "rate": self.rate,
                "seed": self.seed,
                "replay_tokens": self.replay_tokens,
                "kinds": list(self.kinds),
                "calls": dict(self.calls),
                "calls_total": sum(self.calls.values()),
                "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()),
                "faults_by_operation": dict(self.faults_by_operation),
                "token_replays": self.token_replays,
                "token_mismatches": self.token_mismatches,
            }

    # ------------------------------------------------------------ decisions
    def _decide(self, operation: str, body: dict) -> tuple[str | None, float]:
        """The fault for this call (None: none) and, for latency, the delay."""
        with self._lock:
            self.calls[operation] += 1
            if sum(self.calls.values()) > self.max_calls:
                self._expire("call")
            group = "write" if operation in WRITES else operation
            queue = self.forced.get(operation) or self.forced.get(group)
            if queue:
                kind = queue.pop(0)
                if kind == "pass":
                    return None, 0.0
                self.faults[kind] += 1
                self.faults_by_operation[f"{operation}:{kind}"] += 1
                return kind, (self.slow_latency_ms / 1000.0 if kind == "latency" else 0.0)
            if not self.enabled or self._rng.random() >= self.rate:
                return None, 0.0
            kinds = [k for k in self.kinds if k != "partial_batch" or _batch_keys(body) >= 2]
            if not kinds:
                return None, 0.0
            kind = self._rng.choice(kinds)
            delay = 0.0
            if kind == "latency":
                if self._rng.random() < self.slow_share:
                    delay = self.slow_latency_ms / 1000.0
                else:
                    delay = self._rng.uniform(*self.latency_ms) / 1000.0
            self.faults[kind] += 1
            self.faults_by_operation[f"{operation}:{kind}"] += 1
            return kind, delay

    def _pick_unprocessed(self, n: int) -> list[int]:
        with self._lock:
            count = self._rng.randint(1, n - 1) if n > 1 else 1
            return sorted(self._rng.sample(range(n), count))

    def _token_lock(self, token: str) -> threading.Lock:
        with self._lock:
            return self._token_locks.setdefault(token, threading.Lock())

    # ------------------------------------------------------------- serving
    def _handler(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path == "/__faults":
                    self._json(200, proxy.stats())
                else:
                    self._json(404, {"message": "not a DynamoDB call"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path == "/__faults":
                    try:
                        proxy.configure(**json.loads(raw or b"{}"))
                    except (ValueError, TypeError) as e:
                        self._json(400, {"message": str(e)})
                        return
                    self._json(200, proxy.stats())
                    return
                proxy._serve(self, raw)

            def _json(self, status: int, value) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _serve(self, handler, raw: bytes) -> None:
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.rpartition(".")[2] or "Unknown"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        kind, delay = self._decide(operation, body)

        if kind == "drop_before":
            _drop(handler)
            return
        if kind in ("throttling", "provisioned"):
            name = "ThrottlingException" if kind == "throttling" else "ProvisionedThroughputExceededException"
            message = (
                "Rate of requests exceeds the allowed throughput."
                if kind == "throttling"
                else "The level of configured provisioned throughput for the table was exceeded. "
                "Consider increasing your provisioning level with the UpdateTable API."
            )
            _error(handler, 400, name, message)
            return
        if kind == "internal":
            _error(handler, 500, "InternalServerError", "Internal server error")
            return
        if delay:
            time.sleep(delay)

        token = body.get("ClientRequestToken") if operation == "TransactWriteItems" else None
        if token and self.replay_tokens:
            with self._token_lock(token):
                status, headers, answer = self._transact_with_token(handler, raw, body, token)
        else:
            status, headers, answer = self._forward(handler, raw)

        if kind == "partial_batch" and status == 200:
            answer = self._partial(body, answer)
        if kind == "drop_after":
            _drop(handler)
            return
        _answer(handler, status, headers, answer)

    def _transact_with_token(self, handler, raw: bytes, body: dict, token: str):
        digest = hashlib.sha256(
            json.dumps(body.get("TransactItems"), sort_keys=True).encode()
        ).hexdigest()
        now = time.monotonic()
        with self._lock:
            seen = self._tokens.get(token)
            if seen and now - seen[1] > TOKEN_WINDOW_SECS:
                seen = None
                del self._tokens[token]
        if seen:
            if seen[0] == digest:
                with self._lock:
                    self.token_replays += 1
                return 200, [("Content-Type", "application/x-amz-json-1.0")], seen[2]
            with self._lock:
                self.token_mismatches += 1
            return _error_parts(
                400,
                "IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )
        status, headers, answer = self._forward(handler, raw)
        if status == 200:
            with self._lock:
                self._tokens[token] = (digest, now, answer)
        return status, headers, answer

    def _forward(self, handler, raw: bytes):
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_HEADERS}
            conn.request("POST", handler.path, body=raw, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_HEADERS]
            return response.status, kept, answer
        except OSError as e:
            return _error_parts(500, "InternalServerError", f"upstream unreachable: {e}")
        finally:
            conn.close()

    def _partial(self, request: dict, answer: bytes) -> bytes:
        """Moves some of the requested keys to UnprocessedKeys."""
        try:
            doc = json.loads(answer)
        except ValueError:
            return answer
        responses = doc.setdefault("Responses", {})
        unprocessed = doc.setdefault("UnprocessedKeys", {})
        for table, wanted in (request.get("RequestItems") or {}).items():
            keys = wanted.get("Keys") or []
            if len(keys) < 2:
                continue
            chosen = [keys[i] for i in self._pick_unprocessed(len(keys))]
            moved = {_key_id(k) for k in chosen}
            key_names = list(keys[0].keys())
            items = responses.get(table) or []
            responses[table] = [i for i in items if _key_id({n: i.get(n) for n in key_names}) not in moved]
            entry = {k: v for k, v in wanted.items() if k != "Keys"}
            entry["Keys"] = chosen
            unprocessed[table] = entry
        return json.dumps(doc).encode()


def _batch_keys(body: dict) -> int:
    return sum(len(t.get("Keys") or []) for t in (body.get("RequestItems") or {}).values())


def _key_id(key: dict) -> str:
    return json.dumps(key, sort_keys=True)


def _error_parts(status: int, name: str, message: str):
    data = json.dumps({"__type": ERROR_PREFIX + name, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", name)], data


def _error(handler, status: int, name: str, message: str) -> None:
    _answer(handler, *_error_parts(status, name, message))


def _answer(handler, status: int, headers, body: bytes) -> None:
    try:
        handler.send_response(status)
        for name, value in headers:
            if name.lower() == "x-amz-crc32":
                value = str(zlib.crc32(body) & 0xFFFFFFFF)
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
    except OSError:
        handler.close_connection = True


def _drop(handler) -> None:
    """Closes the client's connection without an answer."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="the DynamoDB-compatible server (loopback)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.2, help="fraction of calls that get a fault")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--no-token-replay", action="store_true", help="forward TransactWriteItems retries (as moto)")
    parser.add_argument("--max-calls", type=int, default=100_000)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args(argv)
    proxy = FaultProxy(
        args.upstream,
        rate=args.rate,
        seed=args.seed,
        kinds=tuple(k for k in args.kinds.split(",") if k),
        replay_tokens=not args.no_token_replay,
        enabled=True,
        max_calls=args.max_calls,
        max_seconds=args.max_seconds,
        port=args.port,
    ).start()
    print(f"fault-proxy listening on {proxy.url} -> {args.upstream}", flush=True)
    try:
        proxy._stopped.wait()
    except KeyboardInterrupt:
        pass
    proxy.stop()
    print(json.dumps(proxy.stats()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
