"""The accessibility statement, open to everyone."""

from __future__ import annotations

from flask import render_template

from ui.blueprint import bp


@bp.get("/accessibility")
def accessibility() -> str:
    """How accessible the pages are, and how to report a problem."""
    return render_template("ui/accessibility.html")
