"""redis-server processes a test controls itself: AOF, TLS + ACL, Sentinel setups."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import redis

from tests.conftest import free_port, is_ours, redis_binary


class RedisProc:
    """One redis-server (or sentinel) on a loopback port, with its own directory."""

    def __init__(self, directory: Path, *args: str, port: int | None = None, sentinel_conf: str | None = None):
        self.port = port or free_port()
        self.directory = directory
        self.args = list(args)
        self.sentinel_conf = sentinel_conf
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ping: Any = None) -> RedisProc:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.sentinel_conf is not None:
            conf = self.directory / "sentinel.conf"
            conf.write_text(self.sentinel_conf)
            cmd = [redis_binary(), str(conf), "--sentinel", "--port", str(self.port), "--bind", "127.0.0.1"]
        else:
            cmd = [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                *self.args,
            ]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = self.process
        check = ping or (lambda: is_ours(redis.Redis(port=self.port, socket_connect_timeout=0.2), process))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:  # the port was taken (by another test session?)
                raise RuntimeError(f"redis-server on {self.port} exited at start ({process.returncode})")
            try:
                if check() is not False:
                    return self
                time.sleep(0.05)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None
