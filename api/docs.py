"""The interactive documentation's assets (Swagger UI), served by the service itself, so that
/api/docs works on a network that reaches no CDN and loads nothing it was not shipped with.

The files are Swagger UI's release files (swagger-ui-dist) as the pinned flask-swagger-ui
package ships them; only its files are used, not its blueprint. They are the app's static
files, under a path that names their version, so browsers may cache them for a year.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

SWAGGER_UI = files("flask_swagger_ui") / "dist"
VERSION = (SWAGGER_UI / "VERSION").read_text().strip().removeprefix("v")
ASSETS_PATH = f"/api/docs/assets/swagger-ui-{VERSION}"
FOLDER = str(SWAGGER_UI)

CONFIG: dict[str, Any] = {
    "SWAGGER_UI_CSS": f"{ASSETS_PATH}/swagger-ui.css",
    "SWAGGER_UI_BUNDLE_JS": f"{ASSETS_PATH}/swagger-ui-bundle.js",
    "SWAGGER_UI_STANDALONE_PRESET_JS": f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
    "DOCS_FAVICON": f"{ASSETS_PATH}/favicon-32x32.png",
    # Swagger UI would otherwise send the document's URL to validator.swagger.io for a badge.
    "SWAGGER_UI_CONFIG": {"validatorUrl": None},
}
"""apiflask's settings for the page at /api/docs."""
