"""Shared fixtures: a private redis-server per session, settings per test, worker runners."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

os.environ["CRELIO_DEPLOYMENT_MODE"] = "TEST"
os.environ.setdefault("CRELIO_DEPLOYMENT_ZONE", "IN")

from config import Settings, configure, load_settings

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = "tasks.,tests.jobs."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str:
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(path):
        pytest.exit("redis-server is not installed (make test installs it)", returncode=3)
    return path


def is_ours(client: redis.Redis, process: subprocess.Popen[bytes]) -> bool:
    """Whether the server answering on the port is ``process`` (another test session on this
    machine may have taken a free port between our choosing it and redis-server binding it)."""
    return int(client.info("server")["process_id"]) == process.pid


class RedisServer:
    """A redis-server on a private loopback port, which tests may stop and start."""

    def __init__(self, directory: str) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(200):
            if self.process.poll() is not None:  # e.g. the port was taken meanwhile
                raise RuntimeError(f"redis-server on port {self.port} exited at start ({self.process.returncode})")
            try:
                if is_ours(client, self.process):
                    return
            except redis.ConnectionError:
                pass
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    directory = tempfile.mkdtemp(prefix="fw-redis-")
    server = RedisServer(directory)
    for attempt in range(5):
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 4:
                raise
            server.port = free_port()
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def conn(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(port=redis_server.port)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def settings_base() -> dict[str, Any]:
    """Overrides every ``settings_factory`` call of a test starts from: a fixture that starts a
    provider's local server puts its endpoint settings here (see tests/channels/conftest.py)."""
    return {}


@pytest.fixture
def settings_factory(redis_server: RedisServer, settings_base: dict[str, Any]) -> Iterator[Any]:
    def make(**overrides: Any) -> Settings:
        env = {"CRELIO_DEPLOYMENT_MODE": "TEST"}
        base: dict[str, Any] = {"REDIS_URL": redis_server.url, "JOB_FUNCTION_ALLOWLIST": ALLOWLIST.split(",")}
        base.update(settings_base)
        base.update(overrides)
        return configure(load_settings("instance", env=env, **base))

    yield make
    configure(load_settings("instance", env={"CRELIO_DEPLOYMENT_MODE": "TEST"}))


@pytest.fixture
def settings(settings_factory: Any) -> Settings:
    return settings_factory()


def worker_runner(conn: redis.Redis, default: Any, **defaults: Any) -> Any:
    """A function running a worker (``default`` class unless ``cls`` is given) in burst mode."""

    def run(queues: list[str] | str = "all", cls: Any = None, **kwargs: Any) -> Any:
        from config import get_settings
        from rq_ext.connection import serializer_from_settings

        names = get_settings().queue_names(queues) if isinstance(queues, str) else queues
        options = {**defaults, **kwargs} if cls is None else kwargs
        options.setdefault("serializer", serializer_from_settings(get_settings()))  # as the CLI does
        worker = (cls or default)(names, connection=conn, **options)
        worker.work(burst=True)
        return worker

    return run


@pytest.fixture
def run_worker(conn: redis.Redis, settings: Settings) -> Any:
    """Run an in-process worker in burst mode on the given queues; returns it."""
    from rq_ext.worker import FusionSimpleWorker

    return worker_runner(conn, FusionSimpleWorker)


@pytest.fixture(params=["in-process", "concurrent", "async"])
def run_each_worker(request: Any, conn: redis.Redis, settings: Settings) -> Any:
    """Like ``run_worker``, once with the in-process class (rq's bookkeeping), once with the
    concurrent class (the lean path) and once with the event-loop class (its sans-I/O plans on
    aiohttp): modules that must hold for every class use it as ``run_worker``."""
    from rq_ext.concurrent import FusionConcurrentWorker
    from rq_ext.eventloop import FusionAsyncWorker
    from rq_ext.worker import FusionSimpleWorker

    if request.param == "concurrent":
        return worker_runner(conn, FusionConcurrentWorker, concurrency=1)
    if request.param == "async":
        return worker_runner(conn, FusionAsyncWorker, concurrency=1)
    return worker_runner(conn, FusionSimpleWorker)


def worker_env(redis_url: str, **extra: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CRELIO_DEPLOYMENT_MODE": "TEST",
            "REDIS_URL": redis_url,
            "JOB_FUNCTION_ALLOWLIST": ALLOWLIST,
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "INFO",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker_process(redis_url: str, *args: str, **env: Any) -> subprocess.Popen[bytes]:
    """``python run_worker.py worker ...`` as a real subprocess; its output goes to ``proc.log_path``."""
    log = tempfile.NamedTemporaryFile(prefix="fw-worker-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_worker.py"), "worker", "-c", "instance", *args],
        cwd=ROOT,
        env=worker_env(redis_url, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log_path = log.name  # type: ignore[attr-defined]
    log.close()
    STARTED_WORKERS.append(proc)
    return proc


#: Worker processes started by the running test (:func:`start_worker_process`).
STARTED_WORKERS: list[subprocess.Popen[bytes]] = []


def _descendants(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a forking worker's horse), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """A test that runs the worker's own log setup (``setup_logging``: the root logger at DEBUG
    and a masked stderr handler) leaves the root logger as it found it. Left at DEBUG, every later
    in-process worker formatted each debug line of redis-py and urllib3 through every handler: jobs
    ran ten times slower for the rest of the session, and the lean path's batches shrank."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_fusion", False) and handler not in handlers:
            root.removeHandler(handler)
            handler.close()


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test() -> Iterator[None]:
    """A worker a test started and did not stop (a failed wait, an assertion before the stop) is
    killed with its horses when the test ends: left running, it would take the next tests' jobs
    from the session's Redis with other settings (a whole run of unrelated failures)."""
    yield
    while STARTED_WORKERS:
        proc = STARTED_WORKERS.pop()
        if proc.poll() is None:
            for pid in [*_descendants(proc.pid), proc.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait(timeout=10)


def dashboards_stopped_at_end(monkeypatch: pytest.MonkeyPatch, module: Any) -> Iterator[None]:
    """For an autouse fixture of a test module: every dashboard app the module's ``create_app``
    makes during a test has its background thread (the orphan search) stopped when the test
    ends, so none of them logs after pytest closed the test's captured stream."""
    from rq_ext.dashboard import app as dashboard

    made: list[Any] = []

    def create_app(*args: Any, **kwargs: Any) -> Any:
        made.append(dashboard.create_app(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(module, "create_app", create_app)
    yield
    for app in made:
        dashboard.stop(app)


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(sock: socket.socket, address: Any) -> None:
    """Refuse any connection from the test process that does not go to loopback."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = str(address[0])
        if not (host.startswith("127.") or host in ("::1", "localhost", "0:0:0:0:0:0:0:1")):
            raise OSError(101, f"test network guard: connection to {host} refused (loopback only)")


@pytest.fixture(autouse=True, scope="session")
def network_guard() -> Iterator[None]:
    """No test sends traffic anywhere but loopback, whatever a payload names."""

    def connect(self: socket.socket, address: Any) -> None:
        _loopback_only(self, address)
        return _real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _loopback_only(self, address)
        return _real_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never AWS, even by accident
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
