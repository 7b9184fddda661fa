"""Settings: modes, zones, environment overrides and validation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from config import ConfigError, load_settings
from tests.conftest import ROOT


def load_in_subprocess(env: dict[str, str], expr: str) -> subprocess.CompletedProcess[str]:
    code = f"import config; s = config.load_settings('instance'); print(({expr}))"
    full_env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-c", code], env=full_env, cwd=ROOT, capture_output=True, text=True)


def test_local_mode_starts_without_secrets():
    result = load_in_subprocess({"CRELIO_DEPLOYMENT_MODE": "LOCAL"}, "s.DRY_RUN, s.FUSION_SERVER, s.SENTRY_DSN")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(True, '', '')"


def test_production_mode_and_zone():
    result = load_in_subprocess(
        {"CRELIO_DEPLOYMENT_MODE": "PRODUCTION", "CRELIO_DEPLOYMENT_ZONE": "US"},
        "s.DRY_RUN, s.AWS_REGION, s.WEBHOOK_WHITELIST",
    )
    assert result.stdout.strip() == "(False, 'us-east-1', '^https://')"
    result = load_in_subprocess(
        {"CRELIO_DEPLOYMENT_MODE": "PRODUCTION", "CRELIO_DEPLOYMENT_ZONE": "IN"}, "s.AWS_REGION"
    )
    assert result.stdout.strip() == "ap-south-1"


def test_unknown_mode_is_named():
    result = load_in_subprocess({"CRELIO_DEPLOYMENT_MODE": "STAGING"}, "1")
    assert "CRELIO_DEPLOYMENT_MODE" in result.stderr


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("REDIS_URL", "redis://10.1.2.3:6380/2", "redis://10.1.2.3:6380/2"),
        ("FUSION_SERVER", "http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("WEBHOOK_WHITELIST", "^https://hooks\\.", "^https://hooks\\."),
        ("MAINTENANCE_INTERVAL", "600", 600),
        ("FAILED_JOB_TTL", "3600", 3600),
        ("DRY_RUN", "true", True),
        ("DRY_RUN", "0", False),
    ],
)
def test_every_setting_overridable_by_env(name, value, expected):
    settings = load_settings("instance", env={"CRELIO_DEPLOYMENT_MODE": "TEST", name: value})
    assert getattr(settings, name) == expected


def test_allowed_networks_accepts_cidrs():
    env = {"WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.0/24"}
    assert load_settings(None, env=env).WEBHOOK_ALLOWED_NETWORKS == ["10.0.0.0/8", "192.168.1.0/24"]
    assert load_settings(None, env={"WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]'}).WEBHOOK_ALLOWED_NETWORKS == [
        "127.0.0.0/8"
    ]


@pytest.mark.parametrize(
    "name, value",
    [
        ("MAINTENANCE_INTERVAL", "soon"),
        ("FAILED_JOB_TTL", "-5"),
        ("DRY_RUN", "maybe"),
        ("WEBHOOK_WHITELIST", "(unclosed"),
        ("WEBHOOK_ALLOWED_NETWORKS", "not-a-network"),
        ("REDIS_URL", "http://wrong"),
        ("FUSION_SERVER", "ftp://x"),
        ("FCM_ENDPOINT", "fcm.googleapis.com"),
        ("FCM_OAUTH_TOKEN_URI", ""),
        ("APNS_ENDPOINT", "https://"),
        ("APNS_SANDBOX_ENDPOINT", "ftp://api.sandbox.push.apple.com"),
        ("ASYNC_HTTP_CLIENT", "httpx"),
        ("ASYNC_REDIS_CLIENT", "aioredis"),
    ],
)
def test_wrong_value_names_the_setting(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings(None, env={name: value})


def test_push_endpoints_take_a_proxy_or_a_local_server():
    fcm, sandbox = "http://127.0.0.1:8080", "https://push-proxy.internal:8443/apple"
    settings = load_settings(None, env={"FCM_ENDPOINT": fcm, "APNS_SANDBOX_ENDPOINT": sandbox})
    assert (fcm, sandbox) == (settings.FCM_ENDPOINT, settings.APNS_SANDBOX_ENDPOINT)
