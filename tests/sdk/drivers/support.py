"""Helpers shared by the SDK drivers (run under the SDK environment)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def host_port(base_url: str) -> str:
    """``127.0.0.1:PORT`` of the recording server, for SDKs that take a host, not a URL."""
    return urlsplit(base_url).netloc


def plain_http_to_loopback() -> None:
    """Send an SDK's hard-wired ``https://`` to the loopback recording server as plain HTTP.

    Some SDKs build ``https://{host}`` themselves (no scheme option); the recording server speaks
    HTTP. Only loopback URLs are rewritten, and the network guard in run.py refuses any other."""
    import requests

    original = requests.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(("https://127.", "https://localhost")):
            url = "http://" + url[len("https://") :]
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = request  # type: ignore[method-assign,assignment]
