"""An open-loop HTTP load generator on keep-alive connections (plain asyncio sockets, no client library).

Open loop: request i is *scheduled* at start + i / rate and its latency is measured from
that scheduled time, so a server that falls behind shows it in the percentiles
(no coordinated omission). Runs in its own process (see bench.py) so it does not share
the server's interpreter.

    python loadgen.py --url http://127.0.0.1:3000/predict --rate 200 --duration 10 --body-file bodies.jsonl
prints one JSON line: sent, ok, errors, p50_ms, p99_ms, achieved_rps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlparse


def build_request(url: str, body: bytes) -> bytes:
    parsed = urlparse(url)
    head = (f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length framed); returns the status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def run(url: str, rate: float, duration_s: float, bodies: list[bytes], connections: int,
              timeout_s: float = 5.0) -> dict:
    parsed = urlparse(url)
    requests = [build_request(url, b) for b in bodies]
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(parsed.hostname, parsed.port))
    latencies: list[float] = []
    errors = {"http": 0, "timeout": 0, "connection": 0}
    total = int(rate * duration_s)

    async def one(i: int, scheduled: float) -> None:
        reader, writer = await pool.get()
        try:
            writer.write(requests[i % len(requests)])
            status = await asyncio.wait_for(read_response(reader), timeout_s)
            if status == 200:
                latencies.append(time.perf_counter() - scheduled)
            else:
                errors["http"] += 1
            pool.put_nowait((reader, writer))
        except asyncio.TimeoutError:
            errors["timeout"] += 1
            writer.close()
            pool.put_nowait(await asyncio.open_connection(parsed.hostname, parsed.port))
        except (ConnectionError, asyncio.IncompleteReadError):
            errors["connection"] += 1
            writer.close()
            pool.put_nowait(await asyncio.open_connection(parsed.hostname, parsed.port))

    tasks = []
    start = time.perf_counter()
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float | None:
        return round(latencies[min(int(q * len(latencies)), len(latencies) - 1)] * 1000, 3) if latencies else None

    return {"rate": rate, "sent": total, "ok": len(latencies), "errors": errors, "p50_ms": pct(0.50),
            "p99_ms": pct(0.99), "max_ms": pct(1.0), "achieved_rps": round(len(latencies) / elapsed, 1)}


async def run_closed(url: str, duration_s: float, bodies: list[bytes], connections: int) -> dict:
    """Closed loop (each connection sends again as soon as it has an answer): throughput of big requests."""
    parsed = urlparse(url)
    requests = [build_request(url, b) for b in bodies]
    done = {"ok": 0, "errors": 0}
    deadline = time.perf_counter() + duration_s

    async def worker(k: int) -> None:
        reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
        i = k
        while time.perf_counter() < deadline:
            writer.write(requests[i % len(requests)])
            status = await read_response(reader)
            done["ok" if status == 200 else "errors"] += 1
            i += connections
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(connections)))
    return {**done, "elapsed_s": round(time.perf_counter() - start, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, help="requests/s (open loop); omit for closed loop")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--body-file", required=True, help="one JSON request body per line")
    args = parser.parse_args()
    with open(args.body_file, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    if args.rate:
        result = asyncio.run(run(args.url, args.rate, args.duration, bodies, args.connections))
    else:
        result = asyncio.run(run_closed(args.url, args.duration, bodies, args.connections))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
