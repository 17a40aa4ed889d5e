"""The offline example in docs/venues/ccxt.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "venues" / "ccxt.md"


def test_offline_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (block,) = [b for b in blocks if "BinanceStandin(" in b]
    exec(compile(block, str(DOC), "exec"), {"__name__": "docs_example"})
    out = capsys.readouterr().out
    assert "0.01 1e-05 5.0" in out
    assert "filled 50005.0" in out
    assert re.search(r"^fill \d+ buy 0\.001 @ 50005\.0$", out, re.M)
