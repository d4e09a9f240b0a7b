"""The region's page in Chromium: the map of the pooled coaches (api/static/map.js with the region's data).

Uses the region fixtures of tests/test_api_region.py (on SQLite) and the browser of tests/web/conftest.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_api_region import PASSWORD, RegionService, region, region_plan, region_server  # noqa: F401


@pytest.mark.parametrize("region", ["sqlite"], indirect=True)
def test_the_map_draws_the_pooled_coach(browser: Any, region: RegionService, region_server: str) -> None:  # noqa: F811
    """Signed in as the region, the page's map draws the pooled coach's route and its places without a script
    error; clicking the coach's row picks it on the map."""
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{region_server}/app/login")
    page.fill("#username", "u-region")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/app/region")
    # The page's CSP forbids eval, so wait on the attribute the map sets when drawn.
    page.locator("#map[data-drawn]").wait_for(state="attached", timeout=30_000)
    assert page.locator("#map").get_attribute("data-drawn") == "1"
    assert page.locator("#map path.leaflet-interactive").count() >= 1
    page.click('#buses tr[data-bus="P0218-001"]')
    assert page.locator("#map").get_attribute("data-picked") == "P0218-001"
    assert page.locator("#counties tbody tr").count() == 3
    assert not errors
    page.context.close()
