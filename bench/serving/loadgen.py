"""An open-loop HTTP load generator on keep-alive connections (asyncio protocols, no client library).

Open loop: request i is *scheduled* at start + i / rate and its latency is measured from
that scheduled time, so a server that falls behind shows it in the percentiles (no
coordinated omission): a request due while every connection is busy waits in a queue,
and that wait counts. Runs in its own process (see bench.py) so it does not share the
server's interpreter.

Cheap per request on purpose — the bench runs it on the same 2 cores as the server:
uvloop when installed, one asyncio Protocol per connection that parses the
Content-Length framed answers in data_received, and no task, future or timer per
request (timeouts are checked by the scheduler). `--self-test` measures its own ceiling
against a trivial HTTP server (echo_server.py) and prints its CPU per request.

    python loadgen.py --url http://127.0.0.1:3000/predict --rate 200 --duration 10 --body-file bodies.jsonl
prints one JSON line: rate, sent, ok, errors, p50_ms, p99_ms, max_ms, achieved_rps, cpu_us_per_request.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from urllib.parse import urlparse


def build_request(url: str, body: bytes) -> bytes:
    parsed = urlparse(url)
    head = (f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            return int(line[15:])
    return 0


class Connection(asyncio.Protocol):
    """One keep-alive connection: sends a request, parses the answer, reports it to `done`."""

    def __init__(self, done) -> None:
        self.done = done  # done(connection, status or None when the connection broke)
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.sent_at = 0.0      # when the request in flight was scheduled (latency origin)
        self.busy_since = 0.0   # when it was written (for the timeout)
        self.busy = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, request: bytes, scheduled: float) -> None:
        self.busy, self.sent_at, self.busy_since = True, scheduled, time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = content_length(head)
            if len(self.buffer) < end + 4 + length:
                return
            status = int(head[9:12])
            self.buffer = self.buffer[end + 4 + length:]
            self.busy = False
            self.done(self, status)

    def connection_lost(self, exc) -> None:
        if self.busy:
            self.busy = False
            self.done(self, None)


class Load:
    """The connections and the bookkeeping of one run."""

    def __init__(self, url: str, bodies: list[bytes], connections: int, timeout_s: float) -> None:
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.requests = [build_request(url, b) for b in bodies]
        self.n_connections, self.timeout_s = connections, timeout_s
        self.idle: collections.deque[Connection] = collections.deque()
        self.connections: list[Connection] = []
        self.waiting: collections.deque[tuple[int, float]] = collections.deque()  # (request index, scheduled)
        self.latencies: list[float] = []
        self.errors = {"http": 0, "timeout": 0, "connection": 0}
        self.outstanding = 0
        self.on_idle = None  # closed loop: called with a connection that just finished

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.n_connections):
            _, protocol = await loop.create_connection(lambda: Connection(self._done), self.host, self.port)
            self.connections.append(protocol)
            self.idle.append(protocol)

    def submit(self, index: int, scheduled: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.popleft().send(self.requests[index % len(self.requests)], scheduled)
        else:
            self.waiting.append((index, scheduled))

    def _done(self, connection: Connection, status: int | None) -> None:
        self.outstanding -= 1
        if status == 200:
            self.latencies.append(time.perf_counter() - connection.sent_at)
        elif status is None:
            self.errors["connection"] += 1
            asyncio.get_running_loop().create_task(self._replace(connection))
            return
        else:
            self.errors["http"] += 1
        self._next(connection)

    def _next(self, connection: Connection) -> None:
        if self.waiting:
            index, scheduled = self.waiting.popleft()
            connection.send(self.requests[index % len(self.requests)], scheduled)
        elif self.on_idle is not None:
            self.on_idle(connection)
        else:
            self.idle.append(connection)

    async def _replace(self, connection: Connection) -> None:
        if connection.transport is not None:
            connection.transport.abort()
        loop = asyncio.get_running_loop()
        try:
            _, fresh = await loop.create_connection(lambda: Connection(self._done), self.host, self.port)
        except OSError:
            await asyncio.sleep(0.1)
            return await self._replace(connection)
        self.connections[self.connections.index(connection)] = fresh
        self._next(fresh)

    def check_timeouts(self, now: float) -> None:
        for connection in self.connections:
            if connection.busy and now - connection.busy_since > self.timeout_s:
                connection.busy = False
                self.outstanding -= 1
                self.errors["timeout"] += 1
                asyncio.get_running_loop().create_task(self._replace(connection))

    def close(self) -> None:
        for connection in list(self.idle):
            connection.transport.close()


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return round(sorted_values[min(int(q * len(sorted_values)), len(sorted_values) - 1)] * 1000, 3)


async def run(url: str, rate: float, duration_s: float, bodies: list[bytes], connections: int,
              timeout_s: float = 5.0) -> dict:
    load = Load(url, bodies, connections, timeout_s)
    await load.open()
    total = int(rate * duration_s)
    cpu_start, start = time.process_time(), time.perf_counter()
    sent = 0
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - start) * rate) + 1)
        while sent < due:
            load.submit(sent, start + sent / rate)
            sent += 1
        load.check_timeouts(now)
        # At least a millisecond: the loop's timers are that coarse, and a shorter sleep would spin.
        # Requests that fell due meanwhile go out together, each timed from its own scheduled time.
        await asyncio.sleep(max(0.001, start + sent / rate - time.perf_counter()))
    deadline = time.perf_counter() + timeout_s + 1
    while load.outstanding > 0 and time.perf_counter() < deadline:
        load.check_timeouts(time.perf_counter())
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start
    load.close()
    latencies = sorted(load.latencies)
    return {"rate": rate, "sent": total, "ok": len(latencies), "errors": load.errors,
            "p50_ms": _percentile(latencies, 0.50), "p99_ms": _percentile(latencies, 0.99),
            "max_ms": _percentile(latencies, 1.0), "achieved_rps": round(len(latencies) / elapsed, 1),
            "cpu_us_per_request": round(cpu_s / max(total, 1) * 1e6, 1)}


async def run_closed(url: str, duration_s: float, bodies: list[bytes], connections: int,
                     timeout_s: float = 30.0) -> dict:
    """Closed loop (each connection sends again as soon as it has an answer): throughput of big requests."""
    load = Load(url, bodies, connections, timeout_s)
    await load.open()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + duration_s

    def again(connection: Connection) -> None:
        if time.perf_counter() < deadline:
            load.outstanding += 1
            connection.send(load.requests[next(counter) % len(load.requests)], time.perf_counter())
        else:
            load.idle.append(connection)

    load.on_idle = again
    start = time.perf_counter()
    for connection in list(load.idle):
        load.idle.remove(connection)
        again(connection)
    while (time.perf_counter() < deadline or load.outstanding > 0) and time.perf_counter() < deadline + timeout_s:
        load.check_timeouts(time.perf_counter())
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    load.close()
    return {"ok": len(load.latencies), "errors": sum(load.errors.values()), "elapsed_s": round(elapsed, 3)}


def self_test(rates: list[float], duration_s: float, connections: int) -> list[dict]:
    """The load generator's own ceiling: the same runs against echo_server.py (a trivial HTTP answer)."""
    import subprocess
    import sys
    from pathlib import Path

    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("echo_server.py"))],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/predict"
        body = json.dumps({"trip_id": "echo", "pickup_zone": 161}).encode()
        return [_run_sync(run(url, rate, duration_s, [body], connections)) for rate in rates]
    finally:
        server.terminate()
        server.wait(timeout=10)


def _run_sync(coroutine):
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--rate", type=float, help="requests/s (open loop); omit for closed loop")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--body-file", help="one JSON request body per line")
    parser.add_argument("--self-test", metavar="RATES", help="comma-separated rates against a trivial server")
    args = parser.parse_args()
    if args.self_test:
        for result in self_test([float(r) for r in args.self_test.split(",")], args.duration, args.connections):
            print(json.dumps(result), flush=True)
        return
    if not (args.url and args.body_file):
        parser.error("--url and --body-file are required (or --self-test)")
    with open(args.body_file, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    if args.rate:
        result = _run_sync(run(args.url, args.rate, args.duration, bodies, args.connections))
    else:
        result = _run_sync(run_closed(args.url, args.duration, bodies, args.connections))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
