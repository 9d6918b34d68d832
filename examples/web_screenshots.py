"""Screenshots of the web page for the README: a dream growing, the result, a channel gallery.

Starts `deepdream.web` in-process and drives Debian's Chromium with Playwright:

    python examples/web_screenshots.py --weights ../shared/weights/inception_v3_notop_q8.h5 --out docs
"""

import argparse
import io
import os
import time
from pathlib import Path

from _common import add_weights_argument

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_weights_argument(parser)
    parser.add_argument("--out", default="docs", help="folder for the JPEG screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import matplotlib.cbook
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from deepdream.options import ServeOptions
    from deepdream.web import ServerConfig, launch

    photo = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    out = Path(args.out)
    demo = launch(ServerConfig(serve=ServeOptions(port=7899, max_side=512), weights=args.weights), block=False,
                  quiet=True)

    def save(page, name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        time.sleep(0.5)
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        shot.save(out / name, quality=80, optimize=True)
        print(f"wrote {out / name} ({(out / name).stat().st_size // 1024} KB)")

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            page.goto(demo.local_url)
            page.wait_for_selector("#dream")
            page.locator("#photo input[type=file]").set_input_files(str(photo))
            page.wait_for_function("document.querySelector('#status').innerText.includes('Photo:')")
            for elem_id, value in [("size", 512), ("octaves", 4), ("steps", 12)]:
                box = page.locator(f"#{elem_id} input[type=number]")
                box.fill(str(value))
                box.press("Enter")
            page.click("#dream")
            page.wait_for_function("document.querySelector('#status').innerText.includes('left')", timeout=300_000)
            page.wait_for_function("document.querySelector('#status').innerText.startsWith('2')", timeout=300_000)
            save(page, "web_dreaming.jpg")
            page.wait_for_function("document.querySelector('#status').innerText.includes('Done')", timeout=600_000)
            save(page, "web_dream_done.jpg")

            page.get_by_role("tab", name="From noise").click()
            for elem_id, value in [("r_size", 96), ("r_octaves", 2), ("r_steps", 10), ("g_count", 8)]:
                box = page.locator(f"#{elem_id} input[type=number]")
                box.fill(str(value))
                box.press("Enter")
            page.click("#gallery_button")
            page.wait_for_function("document.querySelector('#r_status').innerText.includes('Done')",
                                   timeout=600_000)
            save(page, "web_gallery.jpg")
            browser.close()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
