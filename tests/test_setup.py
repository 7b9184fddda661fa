"""The set-up scripts behind ``make run``: a private Redis when none is configured or running."""

from __future__ import annotations

import os
import subprocess

import redis

from tests.conftest import ROOT, free_port


def test_ensure_redis_prefers_redis_url():
    env = {**os.environ, "REDIS_URL": "redis://example.invalid:1/3"}
    out = subprocess.run([str(ROOT / "scripts/ensure-redis.sh")], env=env, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "redis://example.invalid:1/3"


def test_ensure_redis_starts_a_private_server_when_nothing_answers(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(FUSION_LOCAL_REDIS_PORT="1", FUSION_PRIVATE_REDIS_PORT=str(port))
    out = subprocess.run(
        [str(ROOT / "scripts/ensure-redis.sh")], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    try:
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"redis://127.0.0.1:{port}/0"
        assert redis.Redis(port=port).ping()
        again = subprocess.run(
            [str(ROOT / "scripts/ensure-redis.sh")], env=env, capture_output=True, text=True, timeout=30, cwd=ROOT
        )
        assert again.stdout.strip() == f"redis://127.0.0.1:{port}/0"  # reused, not started twice
    finally:
        redis.Redis(port=port).shutdown(nosave=True)
