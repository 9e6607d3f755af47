"""Placeholder."""

from ui.blueprint import bp


@bp.get("/cases/<process_name>/<process_id>")
def case(process_name: str, process_id: str) -> str:
    return "case"
