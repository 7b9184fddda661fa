"""The SMSC simulator (tests/smsc/server.js, on the npm ``smpp`` package) as a test fixture.

The tests start it with the machine's Node.js on a free loopback port, read back every PDU it
received (one JSON line each), steer its answers through a control file, and kill and restart it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, wait_for

SIMULATOR = ROOT / "tests" / "smsc"
ACCOUNTS = {"clinic": "secret"}


class Smsc:
    """One simulator process; ``start`` again after ``kill`` listens on the same port."""

    def __init__(self, directory: Path, tls: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.log, self.rules = directory / "pdus.jsonl", directory / "control.json"
        self.port, self.tls, self.host = 0, tls, host
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        options = {"host": self.host, "port": self.port, "log": str(self.log), "control": str(self.rules)}
        options["accounts"] = ACCOUNTS
        if self.tls:
            options["tls"] = self.tls
        self.process = subprocess.Popen(
            ["node", str(SIMULATOR / "server.js"), json.dumps(options)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("LISTENING "), f"the SMSC simulator did not start: {line!r}"
        self.port = int(line.split()[1])

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def control(self, **rules: Any) -> None:
        """Steer the answers: ``script``, ``status``, ``silent``, ``drop`` (see server.js)."""
        self.rules.write_text(json.dumps(rules))

    def pdus(self, command: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        found = [json.loads(line) for line in self.log.read_text().splitlines() if line]
        return [pdu for pdu in found if command is None or pdu["command"] == command]

    def wait_for(self, command: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        return wait_for(lambda: len(self.pdus(command)) >= count and self.pdus(command), timeout)  # type: ignore[no-any-return]

    def config(self, **extra: Any) -> dict[str, Any]:
        """A payload config for this simulator's ``clinic`` account."""
        base = {"host": self.host, "port": self.port, "system_id": "clinic", "password": "secret"}
        return {**base, "sender": "LABXYZ", **extra}


def node_ready() -> None:
    """Skip when Node.js is absent; fail (it is a missing install step) when the package is."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the SMSC simulator cannot run")
    if not (SIMULATOR / "node_modules" / "smpp").is_dir():
        pytest.fail("tests/smsc/node_modules is missing: run `make smsc-simulator` (npm ci --prefix tests/smsc)")


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[Smsc]:
    from tasks.gateways.smpp import pool

    node_ready()
    simulator = Smsc(tmp_path)
    simulator.start()
    yield simulator
    pool.close_all()
    simulator.kill()
