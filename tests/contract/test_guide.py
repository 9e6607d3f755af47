"""docs/adding-a-process.md stays true to the process it is told through."""

from __future__ import annotations

import re
from pathlib import Path

from machines import describe, tenancyaudit

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "adding-a-process.md"


def test_guide_states_the_tenancy_audit_line_count():
    """The line count the guide gives is what `wc -l machines/tenancyaudit.py` prints: the
    whole process, step included, with its labels, in under 120 lines."""
    lines = len((ROOT / "machines" / "tenancyaudit.py").read_text().splitlines())
    stated = re.search(r"The whole process is \*\*(\d+) lines\*\*", GUIDE.read_text())
    assert stated is not None
    assert int(stated.group(1)) == lines
    assert lines < 120


def test_guide_diagram_is_the_current_one():
    """The Mermaid diagram in the guide is the one `definition draw tenancyaudit` prints."""
    block = re.search(r"```mermaid\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert block is not None
    assert block.group(1) == describe.mermaid(tenancyaudit.definition)
