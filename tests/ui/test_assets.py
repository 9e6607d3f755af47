"""The committed stylesheet and scripts: built from the pinned packages, nothing from elsewhere."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "ui" / "static" / "assets.sha256"


def test_committed_assets_match_the_inputs_they_were_built_from():
    """Every input and output of `make assets` has the hash recorded by the last build."""
    lines = MANIFEST.read_text().splitlines()
    assert len(lines) == 7
    for line in lines:
        digest, name = line.split(maxsplit=1)
        actual = hashlib.sha256((ROOT / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} changed since `make assets` last ran: run it again"


def test_stylesheet_uses_hackney_colours_and_no_gov_uk_typeface():
    """The theme is Hackney's green and blue in Arial; GOV.UK's own font is not shipped."""
    css = (ROOT / "ui" / "static" / "officer.css").read_text()
    assert "#00664f" in css
    assert "#025ea6" in css
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert not re.search(r"url\(['\"]?(https?:)?//", css), "the stylesheet loads from elsewhere"


def test_scripts_load_nothing_from_elsewhere():
    """The shipped scripts name no source map or module on another host."""
    for name in ("govuk-frontend.min.js", "officer.js"):
        source = (ROOT / "ui" / "static" / name).read_text()
        assert "sourceMappingURL" not in source
        assert not re.search(r"import[^;]*[\"']https?://", source)
