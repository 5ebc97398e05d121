"""What the browser tests share: Debian's Chromium driven by Playwright, a page that collects its
errors, and readers of what a table shows."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
LAPTOP = (1400, 900)
PHONE = (390, 844)


def launch(playwright):
    """Debian's Chromium, headless."""
    assert Path(CHROMIUM).exists(), "Debian's chromium must be installed (scripts/test.sh does it)"
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def no_sideways_scroll(page: Page) -> bool:
    """Whether the page fits its viewport's width (it never scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


class Watched:
    """A page whose console errors, page errors and failed requests are collected; ``scheme`` is
    the colour scheme the page is shown in (``light`` or ``dark``)."""

    def __init__(self, browser, width=1400, height=900, timezone="UTC", scheme="light"):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US",
                                           timezone_id=timezone, accept_downloads=True, color_scheme=scheme)
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}")
                     if not r.url.endswith("/api/v2/events") else None)
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    def open(self, url: str) -> Page:
        self.page.goto(url)
        self.page.wait_for_selector("main .panel, main .cards, main .empty", timeout=20000)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self):
        self.context.close()


def table_rows(page: Page, label: str) -> list[list[str]]:
    return page.locator(f'table[aria-label="{label}"] tbody tr').evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


def number(text: str) -> float:
    """A number as a table shows it; "–" (a row without requests) is 0."""
    return 0.0 if text.strip() in ("–", "-") else float(re.sub(r"[^0-9.\-]", "", text))
