"""The metrics listener: bound to 127.0.0.1 unless METRICS_BIND says otherwise; /metrics only."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from rq_ext.metrics import MetricsServer, listener
from tests.conftest import free_port, start_worker_process, wait_for


def get(url: str, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@pytest.fixture
def server(settings) -> Iterator[MetricsServer]:
    running = listener(free_port(), "127.0.0.1")
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def test_metrics_path_answers(server):
    status, text = get(f"http://127.0.0.1:{server.server_address[1]}/metrics")
    assert status == 200 and "fusion_jobs_in_flight" in text


@pytest.mark.parametrize("path", ["/", "/favicon.ico", "/metrics/", "/metricsx", "/x/../metrics", "/admin"])
def test_other_paths_are_404(server, path):
    assert get(f"http://127.0.0.1:{server.server_address[1]}{path}")[0] == 404


def test_other_methods_are_refused(server):
    assert get(f"http://127.0.0.1:{server.server_address[1]}/metrics", method="POST")[0] == 501


def test_ipv6_loopback(settings):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        running = listener(free_port(), "::1")
    except OSError:
        pytest.skip("::1 not available")
    threading.Thread(target=running.serve_forever, daemon=True).start()
    try:
        assert get(f"http://[::1]:{running.server_address[1]}/metrics")[0] == 200
    finally:
        running.shutdown()
        running.server_close()


def test_bad_bind_setting(settings_factory):
    from config import ConfigError

    with pytest.raises(ConfigError, match="METRICS_BIND"):
        settings_factory(METRICS_BIND="everywhere")


def refused(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) != 0


def test_worker_binds_loopback_by_default(redis_server):
    """``--metrics-port`` through the CLI: 127.0.0.1 answers, 127.0.0.2 (not bound) does not."""
    port = free_port()
    proc = start_worker_process(redis_server.url, "--customq", "sms", "--metrics-port", str(port))
    try:
        wait_for(lambda: not refused("127.0.0.1", port), timeout=20, interval=0.2)
        assert get(f"http://127.0.0.1:{port}/metrics")[0] == 200
        assert get(f"http://127.0.0.1:{port}/")[0] == 404
        assert refused("127.0.0.2", port)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
