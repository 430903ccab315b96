"""Regenerates the editor screenshots in docs/ (needs Debian's chromium).

    .venv/bin/python docs/editor_screenshots.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.server.conftest import Server  # noqa: E402
from tests.server.test_editor_browser import FLAGS  # noqa: E402


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        srv = Server(Path(tmp) / "shots.sqlite").start()
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(srv.base + "/")
            page.fill("#prompt-input", "a bowling alley with ten pins; the score counts fallen pins")
            page.click("#prompt-submit")
            page.locator('#outliner li[data-entity="ball"]').wait_for(timeout=120_000)
            page.click('#outliner li[data-entity="ball"]')
            page.click("#btn-play")
            page.click("#viewport")
            page.keyboard.down("Space")
            time.sleep(0.3)
            page.keyboard.up("Space")
            time.sleep(2.5)
            page.screenshot(path=str(ROOT / "docs" / "editor.png"))

            owner = browser.new_page(viewport={"width": 1440, "height": 900})
            owner.goto(srv.base + "/")
            owner.select_option("#example-select", "air_hockey")
            owner.click("#example-load")
            owner.locator('#outliner li[data-entity="puck"]').wait_for(timeout=60_000)
            link = owner.locator("#share-player").input_value()
            owner.click("#btn-play")
            guest = browser.new_page(viewport={"width": 1440, "height": 900})
            guest.goto(link)
            guest.click("#viewport")
            guest.keyboard.down("ArrowUp")
            time.sleep(1.0)
            guest.keyboard.up("ArrowUp")
            owner.select_option("#style-select", "segmentation")
            time.sleep(1.0)
            guest.screenshot(path=str(ROOT / "docs" / "editor_guest.png"))
            owner.screenshot(path=str(ROOT / "docs" / "editor_multiplayer.png"))
        finally:
            browser.close()
            srv.stop()
    print("wrote docs/editor.png, docs/editor_multiplayer.png, docs/editor_guest.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
