"""The systemd template unit (issue 14): hardened to an exposure of 3.0 or lower, instance names
escaped, a stop timeout above the longest job timeout, Python working under
MemoryDenyWriteExecute, and a production install from the hashed lock file only."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import load_settings
from tests.conftest import ROOT, worker_env

UNIT = ROOT / "deploy/systemd/fusion-worker@.service"
MAX_EXPOSURE = 3.0

needs_analyze = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
needs_escape = pytest.mark.skipif(not shutil.which("systemd-escape"), reason="systemd-escape not installed")


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def exposure(unit: Path) -> float:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout[-2000:] + result.stderr
    return float(match.group(1))


@needs_analyze
def test_exposure_is_three_or_lower(tmp_path):
    # the instance a comma list, as an operator enables it
    unit = tmp_path / "fusion-worker@sms\\x2cemail.service"
    unit.write_text(UNIT.read_text())
    score = exposure(unit)
    assert score <= MAX_EXPOSURE, f"systemd-analyze security exposure {score} > {MAX_EXPOSURE}"


@needs_analyze
def test_an_unhardened_unit_scores_worse(tmp_path):
    """The check has teeth: the same unit without its hardening block is rated exposed."""
    text = UNIT.read_text().split("# -- Hardening")[0] + "\n[Install]\nWantedBy=multi-user.target\n"
    unit = tmp_path / "fusion-worker@.service"
    unit.write_text(text)
    assert exposure(unit) > 5.0


@needs_analyze
def test_instance_unit_verifies(tmp_path):
    text = UNIT.read_text().replace("/opt/fusion-worker/.venv/bin/python", "/bin/true")
    text = text.replace("User=fusion\n", "").replace("Group=fusion\n", "")
    unit = tmp_path / "fusion-worker@sms\\x2cemail.service"
    unit.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "fusion-worker" not in result.stderr, result.stderr


def test_hardening_directives():
    d = directives(UNIT.read_text())
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
    }
    for key, value in expected.items():
        assert d.get(key) == [value], key
    assert "@system-service" in d["SystemCallFilter"]


def test_instance_name_is_unescaped_in_the_command():
    (exec_start,) = directives(UNIT.read_text())["ExecStart"]
    assert "--customq %I" in exec_start and "%i" not in exec_start


@needs_escape
def test_systemd_escape_round_trip_of_a_comma_list():
    escaped = subprocess.run(["systemd-escape", "sms,email"], capture_output=True, text=True).stdout.strip()
    assert escaped == "sms\\x2cemail"
    back = subprocess.run(["systemd-escape", "-u", escaped], capture_output=True, text=True).stdout.strip()
    assert back == "sms,email"
    docs = (ROOT / "docs/operations.md").read_text() + (ROOT / "deploy/systemd/README.md").read_text()
    assert "systemd-escape" in docs and "sms\\x2cemail" in docs


def test_stop_timeout_exceeds_the_longest_job_timeout():
    (value,) = directives(UNIT.read_text())["TimeoutStopSec"]
    production = load_settings("instance", env={"CRELIO_DEPLOYMENT_MODE": "PRODUCTION"})
    # the job in hand at its timeout, then the stopping worker's last callbacks (its outbox drain)
    assert int(value) > production.DEFAULT_JOB_TIMEOUT + production.CALLBACK_TIMEOUT + 5


def test_production_install_uses_the_lock_file_only():
    readme = (ROOT / "deploy/systemd/README.md").read_text()
    assert "--require-hashes -r requirements.lock" in readme
    install = [ln for ln in readme.splitlines() if "pip install" in ln]
    assert install and not any("requirements-dev" in ln or ".installed" in ln for ln in install)


# -- MemoryDenyWriteExecute: Python really works without W+X memory --------------------------

MDWE_EXEC = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN (Linux >= 6.3)
    sys.exit(77)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""

MDWE_PROBE = """
import mmap
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except OSError:
    pass
else:
    raise SystemExit("W+X memory was allowed: MDWE is not in force")
import ssl, hiredis, boto3, sentry_sdk, elasticsearch, httpx, h2, jwt, phonenumbers, rich
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
key.sign(b"apns", ec.ECDSA(hashes.SHA256()))
jwt.encode({"iss": "t"}, key, algorithm="ES256")
ssl.create_default_context()
print("mdwe-ok")
"""


def under_mdwe(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    wrapper = tmp_path / "mdwe.py"
    wrapper.write_text(MDWE_EXEC)
    return subprocess.run(
        [sys.executable, str(wrapper), *args],
        cwd=ROOT,
        env=env or None,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_and_the_worker_run_under_memory_deny_write_execute(tmp_path, conn, redis_server):
    probe = under_mdwe(tmp_path, "-c", MDWE_PROBE, **worker_env(redis_server.url))
    if probe.returncode == 77:
        pytest.skip("this kernel has no PR_SET_MDWE")
    assert probe.returncode == 0 and "mdwe-ok" in probe.stdout, probe.stderr[-2000:]
    env = worker_env(redis_server.url, DRY_RUN="1", WEBHOOK_WHITELIST="^https?://")
    assert under_mdwe(tmp_path, "run_worker.py", "demo", **env).returncode == 0
    for worker_class in ("fork", "concurrent"):
        args = ["run_worker.py", "worker", "--customq", "all", "--burst", "--worker-class", worker_class]
        result = under_mdwe(tmp_path, *args, **env)
        assert result.returncode == 0, result.stderr[-2000:]
    assert sum(conn.zcard(f"rq:failed:{q}") for q in ("sms", "email", "pn", "webhook", "whatsapp")) == 0
    assert conn.zcard("rq:finished:sms") >= 1


# -- the lock file ----------------------------------------------------------------------------


def requirement_pins(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"{path.name}: {raw!r} is not pinned with =="
        pins[re.sub(r"\[.*\]", "", name).strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_lock_covers_every_requirement_with_hashes():
    lock = (ROOT / "requirements.lock").read_text()
    blocks = re.findall(
        r"^([A-Za-z0-9_.\-\[\],]+)==([^\s;]+)(?: ;[^\\\n]*)?((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})+)", lock, re.M
    )
    locked = {re.sub(r"\[.*\]", "", n).lower().replace("_", "-"): v for n, v, _ in blocks}
    for name, version in requirement_pins(ROOT / "requirements.txt").items():
        assert locked.get(name) == version, f"requirements.lock lacks {name}=={version} (regenerate it)"
    pinned = [ln for ln in lock.splitlines() if re.match(r"^[A-Za-z0-9]", ln)]
    assert len(pinned) == len(blocks), "every locked package carries --hash lines"
