"""Screenshots and load times of every page against a running service (not a test; run by hand).

    python -m tests.web.screenshots http://127.0.0.1:8790 DISPATCHER_TOKEN TOWNSHIP_TOKEN FACTORY_TOKEN PLAN_ID BUS_ID

Saves PNGs under /tmp/shots/ and prints, per page, the median of 3 loads (until the load event, and for
the dispatcher's plan until its map has drawn).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

OUT = Path("/tmp/shots")


def main(base: str, dispatcher: str, township: str, factory: str, plan_id: str, bus_id: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pages = [
        ("login", None, "/app/login", None, {}),
        ("township", township, "/app/township", None, {}),
        ("dispatcher-demand", dispatcher, "/app/dispatcher?date=2026-02-21", None, {}),
        ("dispatcher-plan", dispatcher, f"/app/dispatcher?plan={plan_id}", "#map[data-features]", {}),
        ("driver-phone", dispatcher, f"/app/buses/{bus_id}/driver", None, {"width": 390, "height": 844}),
        ("factory-phone", factory, "/app/factory", None, {"width": 390, "height": 844}),
        ("boarding-phone", township, "/app/township/boarding", None, {"width": 390, "height": 844}),
        ("receipts", township, "/app/township/receipts", None, {}),
        ("desk", dispatcher, "/app/dispatcher/desk", None, {}),
        ("overview", dispatcher, "/app/overview", None, {}),
        ("overview-en", dispatcher, "/app/overview", None, {"lang": "en"}),
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, token, path, ready, opts in pages:
            lang = opts.pop("lang", None)
            viewport = opts or {"width": 1366, "height": 900}
            ctx = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 500)
            page = ctx.new_page()
            if lang:
                page.goto(f"{base}/app/lang/{lang}?next=/app/login")
            if token:
                page.goto(f"{base}/app/login")
                page.click("summary")
                page.fill("#token", token)
                page.click("#login-submit")
                page.wait_for_load_state("load")
            times = []
            for _ in range(3):
                start = time.perf_counter()
                page.goto(base + path, wait_until="load")
                if ready:
                    page.wait_for_selector(ready, state="attached", timeout=60_000)
                times.append(time.perf_counter() - start)
            size = page.evaluate("document.documentElement.outerHTML.length")
            full_page = name not in ("township", "factory-phone", "driver-phone", "boarding-phone")
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
            print(f"{name:20s} {statistics.median(times) * 1000:7.0f} ms  (html {size / 1024:.0f} KiB)")
            ctx.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:7])
