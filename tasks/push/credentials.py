"""Where push keys and certificates come from: ``certificates/`` or a path in the config.

A relative path is looked up under ``certificates/`` (next to this repository's root); an absolute
path is used as is. A missing file is a :class:`~errors.ConfigurationError`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from errors import ConfigurationError

CERTIFICATES = Path(__file__).resolve().parent.parent.parent / "certificates"


def resolve_path(value: Any, what: str) -> Path:
    """The file a config value names (relative names live in ``certificates/``)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what}: a file path is required")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = CERTIFICATES / path
    if not path.is_file():
        raise ConfigurationError(f"{what}: file {path.name!r} not found (certificates/ or an absolute path)")
    return path


def service_account_info(value: Any) -> dict[str, Any]:
    """A Google service account from a dict, a JSON string or a path to a JSON file."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        text = value
    else:
        text = resolve_path(value, "fcm.service_account").read_text(encoding="utf-8")
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigurationError("fcm.service_account is not valid JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ConfigurationError("fcm.service_account is not a Google service account")
    return info


def fingerprint(*parts: Any) -> str:
    """A stable cache key for secret material (the material itself is never kept as a key)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
