"""The interactive documentation renders from the service alone: no CDN, nothing off-host."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

from api import docs

TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}


class Page(HTMLParser):
    """The URLs a page loads (script src, link href, img src) and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") or (found.get("href") if tag == "link" else None)
        if url:
            self.urls.append(url)
        self._in_script = tag == "script" and not found.get("src")

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_every_asset_of_the_docs_page_is_served_by_the_service(app):
    """Each script, stylesheet and icon /api/docs names is a path here, answered 200 with its
    type and a year's caching, without a token."""
    anonymous = app.test_client()
    response = anonymous.get("/api/docs")
    assert response.status_code == 200
    page = Page()
    page.feed(response.get_data(as_text=True))
    assert len(page.urls) >= 4, page.urls  # stylesheet, icon, bundle, preset
    for url in page.urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), f"{url} is off-host"
        assert parts.path.startswith(f"/api/docs/assets/swagger-ui-{docs.VERSION}/"), url
        with anonymous.get(url) as asset:  # closes the file it streams
            assert asset.status_code == 200, url
            assert asset.mimetype == TYPES[parts.path[parts.path.rfind(".") :]], url
            assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert len(asset.data) > 500, url


def test_the_docs_page_may_load_nothing_from_elsewhere(app):
    """Its Content-Security-Policy names no other host and allows only its own inline script."""
    response = app.test_client().get("/api/docs")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "http" not in policy
    assert "unsafe" not in policy
    page = Page()
    page.feed(response.get_data(as_text=True))
    for script in page.inline_scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "validatorUrl" in response.get_data(as_text=True)  # no badge from validator.swagger.io
