"""The blueprint every officer page belongs to, with the GOV.UK Frontend macros on its path."""

from __future__ import annotations

from functools import cached_property

from flask import Blueprint
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

NAME = "ui"


class PageBlueprint(Blueprint):
    """A blueprint whose templates can import `govuk_frontend_jinja/...` macros."""

    enable_openapi = False  # pages, not API operations: apiflask leaves them out of the spec

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:  # type: ignore[override]
        """Our templates first, then the GOV.UK Frontend macros under their package name."""
        assert self.template_folder is not None
        return ChoiceLoader(
            [
                FileSystemLoader(f"{self.root_path}/{self.template_folder}"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        )


bp = PageBlueprint(
    NAME,
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui/static",
)


@bp.app_template_global()
def error_list(
    errors: dict[str, str], anchors: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """The GOV.UK error summary's list: one message per field, linked to its first input."""
    anchors = anchors or {}
    return [{"text": text, "href": f"#{anchors.get(name, name)}"} for name, text in errors.items()]
