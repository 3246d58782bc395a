"""A lean HTTP/1.1 load generator: N keep-alive connections, each sending its
next request as soon as the previous answer arrives (closed loop)."""
from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    started: float
    finished: float
    status: int
    body: bytes

    @property
    def latency(self) -> float:
        return self.finished - self.started


def _request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def run(host: str, port: int, bodies: list[bytes], concurrency: int,
              path: str = "/api/messages") -> list[Result]:
    queue = [_request(host, port, path, b) for b in bodies]
    queue.reverse()
    results: list[Result] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while queue:
                request = queue.pop()
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                results.append(Result(started, time.perf_counter(), status, body))
        finally:
            writer.close()

    # The collector stays off while the load runs: a full collection in this process (which also
    # runs the fake connector) paused every client for tens of ms, counted as the bot's latency.
    gc.disable()
    try:
        await asyncio.gather(*(client() for _ in range(concurrency)))
    finally:
        gc.enable()
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
