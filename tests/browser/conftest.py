"""Browser fixtures: the real app under waitress, Debian's Chromium driven by Playwright, offline guard."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS, ROOT, ServerProcess, chromium_available, require

SIZES = {"tablet": {"width": 800, "height": 1280}, "phone": {"width": 390, "height": 844}}
SCREENSHOTS = ROOT / "tests" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_driver():
    """Playwright, once per test process (a second one in the same process is refused)."""
    require(chromium_available(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_driver):
    """Debian's Chromium under Playwright (never a downloaded browser)."""
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo app as `make run` serves it, on a free port."""
    server = ServerProcess(tmp_path_factory.mktemp("demo"))
    server.init()
    server.start()
    yield server
    server.stop()


@contextmanager
def demo_hub_and_fresh_device(folder: Path, secret: str):
    """A demo hub as `make run` makes one (hub role) and a field device straight out of the box, both serving."""
    hub = ServerProcess(folder / "hub", env={"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": secret,
                                             "PANTAU_SECURE_COOKIES": "0"}, demo=True)
    device = ServerProcess(folder / "device", demo=False)
    try:
        for server in (hub, device):
            server.instance.mkdir()
            server.init()
            server.start()
        yield hub, device
    finally:
        device.stop()
        hub.stop()


class Tab:
    """A page with the offline guard: any request to another host fails the test; console errors too."""

    def __init__(self, context, base_url: str):
        self.base = base_url
        self.context = context
        self.foreign: list[str] = []
        self.errors: list[str] = []
        own = urlparse(base_url).netloc
        context.route("**/*", lambda route: self._guard(route, own))
        self.page = context.new_page()
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _guard(self, route, own: str) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == own:
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def goto(self, path: str):
        return self.page.goto(self.base + path)

    def login(self, username: str, password: str = "demo") -> None:
        self.goto("/login")
        if "/login" not in self.page.url:
            return  # already signed in (the sign-in page sends signed-in users home)
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("button[type=submit].btn")
        self.page.wait_for_load_state("networkidle")

    def set_language(self, code: str) -> None:
        self.page.click(f".lang-switch button[value={code}]")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert not self.foreign, f"requests to other hosts: {self.foreign}"
        assert not self.errors, f"browser console errors: {self.errors}"


@pytest.fixture
def tab_factory(chromium):
    """Make tabs at a named size; each gets a fresh context (cookies) and the offline guard."""
    made = []

    def make(base_url: str, size: str = "tablet", **options) -> Tab:
        context = chromium.new_context(viewport=SIZES[size], **options)
        tab = Tab(context, base_url)
        made.append(tab)
        return tab

    yield make
    for tab in made:
        tab.context.close()
