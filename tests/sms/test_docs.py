"""docs/gateways.md is the output of its command, and lists every gateway and provider."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tasks.gateways.registry import GATEWAYS
from tasks.whatsapp_providers.registry import PROVIDERS_BY_NAME

ROOT = Path(__file__).resolve().parents[2]


def test_generated_file_is_up_to_date() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "tasks.gateways.doc"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert output == (ROOT / "docs" / "gateways.md").read_text(), "run: python -m tasks.gateways.doc > docs/gateways.md"
    for name in [*GATEWAYS, *PROVIDERS_BY_NAME]:
        assert f"\n| {name} |" in output


def test_counts() -> None:
    indian = [g for g in GATEWAYS.values() if g.region == "IN"]
    assert len(GATEWAYS) >= 55 and len(indian) >= 25 and len(PROVIDERS_BY_NAME) >= 8
