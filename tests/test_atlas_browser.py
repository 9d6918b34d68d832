"""The atlas page opened from disk (`file://`) in Chromium: every image loads, no page error, a click opens it large."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from deepdream.atlas import render_atlas  # noqa: E402
from deepdream.options import AtlasOptions, DreamOptions, EngineOptions  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# Set to a folder to keep the screenshot.
SCREENSHOT_ENV_VAR = "DEEPDREAM_ATLAS_SCREENSHOTS"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]

# Every image of the page's current layer (the grid and the large view), loaded again to be sure it decodes.
ALL_IMAGES_LOAD = """async () => {
  const sources = [...document.querySelectorAll('img')].map(i => i.src).filter(s => s);
  const sizes = await Promise.all(sources.map(src => new Promise(done => {
    const probe = new Image(); probe.onload = () => done(probe.naturalWidth); probe.onerror = () => done(0);
    probe.src = src; })));
  return {count: sources.length, broken: sources.filter((s, i) => !sizes[i])};
}"""


def test_the_atlas_page_opens_from_disk_and_shows_every_render(tmp_path, grace_hopper_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(grace_hopper_path, photos / "hopper.jpg")
    out = tmp_path / "atlas"
    engine, dream = EngineOptions(weights=None, precision="float32"), DreamOptions(octaves=1, steps=1)
    render_atlas(out, engine, dream, AtlasOptions(layers="mixed0,mixed4", channels="0-5", size=75, batch=6,
                                                  photos=str(photos), top_photos=1))
    errors, requests = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 700})
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto((out / "index.html").as_uri())
        for layer in ("mixed0", "mixed4"):
            page.goto((out / "index.html").as_uri() + f"#{layer}")
            page.wait_for_selector(".cell")
            assert page.locator(".cell").count() == 6
            assert page.locator("#title").inner_text().startswith(f"{layer}: 6 of ")
            page.locator(".cell").nth(4).click()
            assert page.locator("#view.open img.big").get_attribute("src") == f"{layer}/0004.png"
            page.wait_for_function("document.querySelectorAll('#view .photos img').length == 1")
            loaded = page.evaluate(ALL_IMAGES_LOAD)
            assert loaded["count"] == 8 and not loaded["broken"], loaded
            if layer == "mixed4" and os.environ.get(SCREENSHOT_ENV_VAR):
                page.screenshot(path=str(Path(os.environ[SCREENSHOT_ENV_VAR]) / "atlas_view.png"))
            page.click("#close")
            assert page.locator("#view.open").count() == 0
        browser.close()
    assert not errors
    assert all(url.startswith("file://") for url in requests), [u for u in requests if not u.startswith("file:")]
