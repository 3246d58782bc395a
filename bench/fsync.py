"""What durability costs on this machine's disk, next to `make bench`'s durable floor.

  python bench/fsync.py [FOLDER]   # FOLDER: where the bot's database would live (default: a temporary one)

Prints the median and p99 of fsync after a 4 KiB write, and SQLite's commits per second
(WAL, synchronous=FULL, one INSERT OR IGNORE each) against the same with synchronous=OFF.
"""
from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

SAMPLES = 2000


def fsync_latencies(path: Path) -> list[float]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        latencies = []
        for i in range(SAMPLES):
            os.pwrite(fd, b"x" * 4096, (i % 64) * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            latencies.append(time.perf_counter() - started)
        return sorted(latencies)
    finally:
        os.close(fd)


def commits_per_second(path: Path, synchronous: str, first: int) -> float:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("CREATE TABLE IF NOT EXISTS votes (user_id TEXT PRIMARY KEY)")
        started = time.perf_counter()
        for i in range(first, first + SAMPLES):
            conn.execute("INSERT OR IGNORE INTO votes VALUES (?)", (str(i),))
        return SAMPLES / (time.perf_counter() - started)


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="fsync-"))
    latencies = fsync_latencies(folder / "fsync-probe")
    print(f"fsync of a 4 KiB write: median {1e6 * statistics.median(latencies):.0f} µs, "
          f"p99 {1e6 * latencies[int(0.99 * len(latencies))]:.0f} µs ({SAMPLES} samples)")
    durable = commits_per_second(folder / "fsync-probe.db", "FULL", 0)
    fast = commits_per_second(folder / "fsync-probe.db", "OFF", SAMPLES)
    print(f"SQLite commits, WAL, synchronous=FULL: {durable:.0f}/s ({1e6 / durable:.0f} µs each); "
          f"synchronous=OFF: {fast:.0f}/s ({1e6 / fast:.0f} µs each)")


if __name__ == "__main__":
    main()
