"""Browser tests: Debian's Chromium through Playwright, against the app served on 127.0.0.1
with a real Celery worker, the test MongoDB and Redis, and the local demo records.

Skipped, saying so, where /usr/bin/chromium is not installed (`apt-get install chromium`);
.ci/run installs it. Playwright never downloads a browser here.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from playwright.sync_api import Browser, Page, Request
from werkzeug.serving import make_server

from adapters.event_sinks import RedisStream
from api import create_app
from storage.local_services import seed_demo
from storage.mongo import database
from tests.workers.conftest import Worker, worker_env
from workers.dispatch import Dispatcher

CHROMIUM = shutil.which("chromium")
AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
# Without the background-networking flags Chromium calls Google's hosts on start.
FLAGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test here `browser`, and skip them all, saying why, without Chromium."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if CHROMIUM is None:
                item.add_marker(
                    pytest.mark.skip(
                        reason="browser tests skipped: Chromium is not installed "
                        "(apt-get install chromium)"
                    )
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": FLAGS}


@pytest.fixture(scope="package")
def worker_db_name(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The database of the browser tests' server and worker, dropped afterwards."""
    name = f"test_browser_{uuid.uuid4().hex[:8]}"
    yield name
    database(settings.mongo_uri, name).client.drop_database(name)


@pytest.fixture(scope="package")
def live_server(settings, worker_db_name) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on a free port of 127.0.0.1 with a Celery worker of its own, on a database
    holding the demo records.

    Package-scoped: the worker stops before other packages' tests start theirs, since two
    workers on one broker would take each other's steps.
    """
    seed_demo(database(settings.mongo_uri, worker_db_name))
    running = Worker(worker_env(settings, worker_db_name), "browser-worker")
    stream = RedisStream(redis.Redis.from_url(settings.redis_url), settings.events_stream)
    app = create_app({"MONGO_DB": worker_db_name}, dispatch=Dispatcher(stream, []))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        running.stop()


class Requests:
    """Every request the page made, so a test can show none left this machine or failed."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.failed: list[str] = []

    def seen(self, request: Request) -> None:
        if urlsplit(request.url).hostname != "127.0.0.1" and not request.url.startswith("data:"):
            self.outside.append(request.url)

    def lost(self, request: Request) -> None:
        # A download the test did not save, or a reload cutting a poll short, is not a failure.
        if request.failure not in ("net::ERR_ABORTED",):
            self.failed.append(f"{request.url}: {request.failure}")


@pytest.fixture
def officer_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh browser context on the server, its requests watched: at the end, none left
    127.0.0.1 and none failed."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    requests = Requests()
    page.on("request", requests.seen)
    page.on("requestfailed", requests.lost)
    yield page
    context.close()
    assert requests.outside == [], "requests left 127.0.0.1"
    assert requests.failed == []


def check_accessibility(page: Page, state: str) -> None:
    """Run axe-core on the page as it is now: WCAG 2.2 AA, no violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]
    assert violations == [], f"accessibility violations on {state}"


def screenshot(page: Page, name: str) -> None:
    """Save the page for docs/screenshots when `make screenshots` asks for them."""
    import os

    if os.environ.get("UI_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
