"""Several `poll-bot` processes on one database behind HAProxy (Debian's `haproxy` package):
round robin, each instance checked on /healthz, a request that cannot connect to one instance
sent to another. The cluster test and `make bench-cluster` both run it."""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support.bot_process import start_bot, until_healthy
from tests.support.net import free_port

HAPROXY_CONFIG = """\
global
    maxconn 2000

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 3s
    retries 3
    option redispatch

frontend poll_bot
    bind 127.0.0.1:{port}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 250ms fall 2 rise 2
{servers}
"""


class Cluster:
    def __init__(self, db, instances: int, **env: str):
        """`db`: a test database of tests.support.databases (PostgreSQL: SQLite serves one process)."""
        self.db, self._env = db, env
        self.ports = [free_port() for _ in range(instances)]
        self.processes: list[subprocess.Popen | None] = []
        self.port = free_port()  # HAProxy's
        self._folder = Path(tempfile.mkdtemp(prefix="poll-bot-haproxy-"))
        self._haproxy: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """/api/messages through HAProxy."""
        return f"http://127.0.0.1:{self.port}/api/messages"

    def instance_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}/api/messages"

    async def start(self) -> None:
        self.processes = list(await asyncio.gather(*(start_bot(self.db, port, **self._env) for port in self.ports)))
        servers = "\n".join(f"    server bot{i} 127.0.0.1:{port} check" for i, port in enumerate(self.ports))
        config = self._folder / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        log = open(self._folder / "haproxy.log", "wb")
        self._haproxy = subprocess.Popen([_haproxy(), "-db", "-f", str(config)], stdout=log, stderr=log)
        if not await until_healthy(self.port, self._haproxy):
            raise RuntimeError(f"HAProxy did not start: {(self._folder / 'haproxy.log').read_text()}")

    async def lanes(self, session: aiohttp.ClientSession, index: int) -> int:
        """How many conversations the instance is delivering to (its pollbot_outbound_lanes gauge)."""
        async with session.get(f"http://127.0.0.1:{self.ports[index]}/metrics") as response:
            text = await response.text()
        return next(int(sample.value) for family in text_string_to_metric_families(text)
                    for sample in family.samples if sample.name == "pollbot_outbound_lanes")

    def kill(self, index: int) -> None:
        """SIGKILL: no goodbye, its leases and claims stay as they were."""
        process = self.processes[index]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        self.processes[index] = None

    def stop(self) -> None:
        for process in [*self.processes, self._haproxy]:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


def _haproxy() -> str:
    found = shutil.which("haproxy", path=f"{os.environ.get('PATH', '')}:/usr/sbin")  # Debian's, also off PATH
    if not found:
        raise RuntimeError("HAProxy is not installed: apt-get install haproxy (make test does)")
    return found
