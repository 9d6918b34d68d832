"""The page in a real browser: Debian's Chromium driven by Playwright.

Upload a photo, dream, watch the preview change before the end, download the
result with its settings inside; a broken upload shows its message; a second
visitor sees their place in the queue, and closing the first tab cancels its
dream and frees the place; a preview waiting behind another sees its place; a
gallery click dreams its channel; the live camera (Chromium's fake camera fed
a clip) is dreamed frame by frame.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")
sync_api = pytest.importorskip("playwright.sync_api")
from web_server import running_server, write_small_photo  # noqa: E402

from deepdream import settings  # noqa: E402
from inception_keras.images import load_image  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Set to a folder to keep the screenshots (the README's come from docs/make_web_screenshots.py).
SCREENSHOT_ENV_VAR = "DEEPDREAM_WEB_SCREENSHOTS"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(weights=None, precision="float32", max_side=256, max_steps=20,
                        output_dir=str(tmp_path_factory.mktemp("outputs"))) as demo:
        yield demo


@pytest.fixture(scope="module")
def playwright():
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(server.local_url)
    page.wait_for_selector("#dream")
    yield page
    context.close()


def upload_photo(page, path) -> None:
    page.locator("#photo input[type=file]").set_input_files(str(path))


def set_slider(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def status_text(page) -> str:
    return page.locator("#status").inner_text()


def wait_for_status(page, text: str, timeout_s: float = 60) -> str:
    page.wait_for_function(f"document.querySelector('#status').innerText.includes({text!r})",
                           timeout=timeout_s * 1000)
    return status_text(page)


def screenshot(page, name: str) -> None:
    folder = os.environ.get(SCREENSHOT_ENV_VAR)
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_dream_grows_in_the_page_and_downloads_with_its_settings(page, server, tmp_path, grace_hopper):
    photo = write_small_photo(tmp_path / "hopper.jpg", grace_hopper, side=256)
    upload_photo(page, photo)
    wait_for_status(page, "Photo:")
    keep_colours = page.get_by_label("Keep the photo's colours")
    assert keep_colours.is_visible() and not keep_colours.is_checked()
    for elem_id, value in [("octaves", 3), ("steps", 12), ("seed", 3)]:
        set_slider(page, elem_id, value)
    page.click("#dream")

    previews = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = status_text(page)
        done = "Done" in status
        source = page.locator("#shown img").first.get_attribute("src") if page.locator("#shown img").count() else None
        if not done and source and (not previews or previews[-1] != source) and "steps" in status:
            previews.append(source)
        if done:
            break
        time.sleep(0.05)
    assert done, status
    assert len(set(previews)) >= 2, f"the preview changed {len(set(previews))} times before the end"
    screenshot(page, "web_photo_done.png")

    with page.expect_download() as download_info:
        page.locator("#download a").first.click()
    saved = tmp_path / "downloaded.png"
    download_info.value.save_as(saved)
    recorded = settings.read(saved)
    assert (recorded["octaves"], recorded["steps"], recorded["seed"], recorded["original_colors"]) == (3, 12, 3, False)
    dreamed, original = load_image(saved), load_image(photo)
    assert dreamed.shape == original.shape
    assert np.abs(dreamed.astype(int) - original.astype(int)).mean() > 1.0
    assert "--seed 3" in page.locator("#command textarea").input_value()


def test_broken_upload_shows_the_message(page, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    upload_photo(page, broken)
    message = wait_for_status(page, "cannot be dreamed", timeout_s=20)
    assert "broken.jpg" in message and str(tmp_path) not in message
    screenshot(page, "web_broken_upload.png")


def test_a_gallery_click_dreams_that_channel_on_the_photo(page, tmp_path, grace_hopper):
    upload_photo(page, write_small_photo(tmp_path / "hopper.jpg", grace_hopper, side=120))
    wait_for_status(page, "Photo:")
    set_slider(page, "octaves", 1)
    set_slider(page, "steps", 2)
    page.get_by_role("tab", name="From noise").click()
    for elem_id, value in [("r_size", 80), ("r_octaves", 1), ("r_steps", 2), ("g_first", 5), ("g_count", 2)]:
        set_slider(page, elem_id, value)
    page.click("#gallery_button")
    page.wait_for_function("document.querySelector('#r_status').innerText.includes('Done')", timeout=60_000)
    page.locator("#cells .thumbnail-item").nth(1).click()
    wait_for_status(page, "Done")
    assert page.locator("#channel input, #channel textarea").first.input_value() == "6"
    command = page.locator("#command textarea").input_value()
    assert "--layer mixed4:1.0" in command and "--channel 6" in command


def test_live_camera_is_dreamed_frame_by_frame(playwright, server, tmp_path):
    import av
    from video_clips import moving_square

    clip = tmp_path / "camera.y4m"
    with av.open(str(clip), "w", format="yuv4mpegpipe") as container:
        stream = container.add_stream("rawvideo", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 80, "yuv420p"
        for index in range(20):
            frame = av.VideoFrame.from_ndarray(moving_square(index), format="rgb24").reformat(format="yuv420p")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    camera_args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                   f"--use-file-for-fake-video-capture={clip}"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera_args)
    try:
        page = browser.new_context(permissions=["camera"]).new_page()
        page.goto(server.local_url)
        page.wait_for_selector("#dream")
        page.get_by_role("tab", name="Live camera").click()
        page.get_by_text("Click to Access Webcam").click()
        page.locator("#camera button[aria-label='capture photo']").click()
        page.wait_for_function("document.querySelector('#live_rate').innerText.includes('frames per second')",
                               timeout=60_000)
        time.sleep(2)
        rate = page.locator("#live_rate").inner_text()
        assert page.locator("#live_dream img").count() == 1
    finally:
        browser.close()
    measured = re.search(r"([\d.]+) frames per second at (\d+x\d+)", rate)
    assert measured and float(measured.group(1)) > 0 and measured.group(2) == "96x80", rate


def test_a_waiting_visitor_sees_their_place_and_a_closed_tab_frees_it(browser, server, tmp_path, grace_hopper):
    photo = write_small_photo(tmp_path / "hopper.jpg", grace_hopper, side=256)
    pages = []
    for _ in range(2):
        page = browser.new_context().new_page()
        page.goto(server.local_url)
        page.wait_for_selector("#dream")
        upload_photo(page, photo)
        wait_for_status(page, "Photo:")
        set_slider(page, "steps", 20)
        set_slider(page, "octaves", 4)
        pages.append(page)
    first, second = pages
    cancelled = server.dreams.outcomes["cancelled"]
    first.click("#dream")
    wait_for_status(first, "steps,")
    second.click("#dream")
    second.wait_for_function("document.querySelector('#status').innerText.includes('queue')", timeout=30_000)
    assert "queue: 1/1" in status_text(second)

    first.context.close()
    wait_for_status(second, "steps,")  # the closed tab's dream stopped and gave its place
    second.context.close()
    deadline = time.monotonic() + 30
    while server.dreams.outcomes["cancelled"] < cancelled + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.dreams.outcomes["cancelled"] == cancelled + 2
    assert not [t for t in threading.enumerate() if t.name == "deepdream-job" and t.is_alive()]


def test_a_preview_behind_another_sees_its_place(browser, server, tmp_path, grace_hopper, monkeypatch):
    photo = write_small_photo(tmp_path / "hopper.jpg", grace_hopper)
    started, release = threading.Event(), threading.Event()
    preview = server.dreams.preview

    def held(path):
        started.set()
        release.wait(30)
        return preview(path)

    monkeypatch.setattr(server.dreams, "preview", held)
    first, second = (browser.new_context().new_page() for _ in range(2))
    try:
        for page in (first, second):
            page.goto(server.local_url)
            page.wait_for_selector("#dream")
        upload_photo(first, photo)
        assert started.wait(30)
        upload_photo(second, photo)  # ran beside the first, outside the queue, and was not told why it waited
        second.wait_for_function("document.querySelector('#status').innerText.includes('queue')", timeout=20_000)
        assert "queue: 1/1" in status_text(second)
    finally:
        release.set()
    assert "Photo: 102x120" in wait_for_status(first, "Photo:") and "Photo:" in wait_for_status(second, "Photo:")
    first.context.close()
    second.context.close()
