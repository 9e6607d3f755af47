"""Placeholder."""

from ui.blueprint import bp


@bp.get("/start")
def start_list() -> str:
    return "start"
