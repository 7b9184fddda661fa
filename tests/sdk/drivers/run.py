"""Send one message with a provider's official SDK to a local recording server.

Run under the SDK environment (``.venv-sdk/bin/python tests/sdk/drivers/run.py``), never the
worker's: the SDKs are test-only dependencies with pins of their own. Reads one JSON object on
stdin::

    {"driver": "twilio", "base_url": "http://127.0.0.1:PORT", "config": {...}, "to": "+91...",
     "sender": "...", "text": "...", "unicode": false, "dlt_entity_id": null, "template_id": null,
     "whatsapp": null | {"template": ..., "text": ..., "document": ...}}

and prints one JSON object: ``{"ok": true, "id": "<what the SDK read as the message id>"}`` or
``{"ok": false, "error": "<exception class>: <text>"}``. The module ``with_<driver>.py`` beside
this file does the SDK call. Before it is imported, every connection and name lookup that is not
for loopback is refused, so an SDK that ignores the base URL fails here instead of reaching a
provider.
"""

from __future__ import annotations

import importlib
import json
import socket
import sys
from typing import Any

LOOPBACK = ("127.", "::1", "localhost", "0:0:0:0:0:0:0:1")


def loopback(host: Any) -> bool:
    return isinstance(host, str) and host.startswith(LOOPBACK)


def guard_network() -> None:
    """Refuse connections and DNS look-ups for anything but loopback in this process."""
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            raise OSError(101, f"sdk driver network guard: {address[0]} refused (loopback only)")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, f"sdk driver network guard: no look-up of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo


def main() -> None:
    guard_network()
    job = json.load(sys.stdin)
    module = importlib.import_module(f"with_{job['driver']}")
    try:
        message_id = module.send(job)
    except Exception as exc:  # the SDK's own error for a refusal is the result
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}))
        return
    print(json.dumps({"ok": True, "id": "" if message_id is None else str(message_id)}))


if __name__ == "__main__":
    main()
