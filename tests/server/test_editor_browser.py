"""The editor in a real browser: Debian's chromium, headless, driven by Playwright.

Skipped when chromium is not installed, unless WORLDGEN_REQUIRE_BROWSER=1 (CI sets it).
"""

from __future__ import annotations

import io
import os
import shutil
import time

import numpy as np
import pytest

from tests.server.conftest import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("WORLDGEN_REQUIRE_BROWSER") != "1":
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, "WORLDGEN_REQUIRE_BROWSER=1 but chromium is not installed"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=os.path.realpath(CHROMIUM), args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    ctx.close()


def room_of(page: Page) -> tuple[str, str]:
    """(room id, token) from the page's address."""
    frag = dict(part.split("=", 1) for part in page.evaluate("location.hash").lstrip("#").split("&") if "=" in part)
    return frag["room"], frag["token"]


def canvas_pixels(page: Page) -> np.ndarray:
    from PIL import Image

    png = page.locator("#viewport").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def wait_for_frames(page: Page, n: int = 3, timeout: float = 30_000) -> None:
    # (arrow functions: the editor's Content-Security-Policy forbids evaluating strings)
    page.wait_for_function("(n) => window.worldgen && window.worldgen.framesDrawn >= n", arg=n, timeout=timeout)


def test_prompt_trace_select_edit_undo_play(page: Page, server: Server):
    page.goto(server.base + "/")
    page.fill("#prompt-input", "a bowling alley with ten pins; the score counts fallen pins")
    page.click("#prompt-submit")
    # the reasoning trace is shown
    expect(page.locator("#trace")).to_contain_text("bowling", timeout=90_000)
    expect(page.locator('#outliner li[data-entity="ball"]')).to_be_visible(timeout=30_000)
    rid, token = room_of(page)
    spec = server.ok("GET", f"/api/rooms/{rid}", token=token)["spec"]
    ball = next(e for e in spec["entities"] if e["name"] == "ball")
    old_mass = ball["mass"]

    # select the ball and change its mass in the inspector
    page.click('#outliner li[data-entity="ball"]')
    field = page.locator('#inspector [data-field="mass"]')
    expect(field).to_have_value(str(old_mass) if old_mass != int(old_mass) else str(int(old_mass)), timeout=10_000)
    new_mass = round(old_mass * 2 + 1, 3)
    field.fill(str(new_mass))
    field.press("Enter")
    field.blur()

    def server_mass() -> float:
        s = server.ok("GET", f"/api/rooms/{rid}", token=token)["spec"]
        return next(e for e in s["entities"] if e["name"] == "ball")["mass"]

    _poll(lambda: server_mass() == pytest.approx(new_mass), "the inspector edit reaches the server")
    expect(page.locator("#btn-undo")).to_be_enabled()

    # undo restores the property, on the server and in the inspector
    page.click("#btn-undo")
    _poll(lambda: server_mass() == pytest.approx(old_mass), "undo restores the mass")
    page.click('#outliner li[data-entity="ball"]')
    expect(page.locator('#inspector [data-field="mass"]')).to_have_value(
        str(old_mass) if old_mass != int(old_mass) else str(int(old_mass)), timeout=10_000)

    # play: the canvas shows the world (not blank) and changes once the ball is thrown
    wait_for_frames(page)
    before = canvas_pixels(page)
    assert before.std() > 10, "the viewport is blank"
    page.click("#btn-play")
    page.click("#viewport")
    page.keyboard.down("Space")
    time.sleep(0.3)
    page.keyboard.up("Space")
    drawn = page.evaluate("() => window.worldgen.framesDrawn")

    def canvas_changed() -> bool:  # the thrown ball rolls away: a visible share of pixels changes
        return (np.abs(canvas_pixels(page) - before).sum(-1) > 30).mean() > 0.002

    _poll(canvas_changed, "the canvas changes while playing", 20)
    assert page.evaluate("() => window.worldgen.framesDrawn") > drawn
    info = server.ok("GET", f"/api/rooms/{rid}", token=token)
    assert info["tick"] > 0 and info["running"] is True
    assert not [e for e in page.errors if "favicon" not in e], page.errors


def test_second_browser_joins_as_player_and_moves_its_paddle(browser, server: Server):
    owner_ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    guest_ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        owner = owner_ctx.new_page()
        owner.goto(server.base + "/")
        owner.select_option("#example-select", "air_hockey")
        owner.click("#example-load")
        expect(owner.locator('#outliner li[data-entity="paddle_p2"]')).to_be_visible(timeout=60_000)
        expect(owner.locator("#role")).to_contain_text("owner")
        link = owner.locator("#share-player").input_value()
        assert "#room=" in link and "token=" in link
        rid, token = room_of(owner)
        owner.click("#btn-play")

        guest = guest_ctx.new_page()
        guest.goto(link)
        expect(guest.locator("#role")).to_contain_text("p2", timeout=30_000)
        wait_for_frames(guest)
        start = server.ok("GET", f"/api/rooms/{rid}", token=token)["entities"]["paddle_p2"]["position"]
        p1_start = server.ok("GET", f"/api/rooms/{rid}", token=token)["entities"]["paddle_p1"]["position"]

        # the guest (p2) holds its "move left" key (move_x: left / right)
        guest.click("#viewport")
        guest.keyboard.down("ArrowLeft")
        try:
            # the owner's page sees the guest's paddle move
            owner.wait_for_function(
                """([x0]) => {
                    const s = window.worldgen && window.worldgen.lastState;
                    const p = s && s.entities && s.entities.paddle_p2;
                    return p && Math.abs(p[0] - x0) > 0.05;
                }""", arg=[start[0]], timeout=15_000)
        finally:
            guest.keyboard.up("ArrowLeft")
        now = server.ok("GET", f"/api/rooms/{rid}", token=token)["entities"]
        assert abs(now["paddle_p2"]["position"][0] - start[0]) > 0.05
        assert now["paddle_p1"]["position"] == pytest.approx(p1_start, abs=1e-3), "only the guest's own paddle moved"
        # the owner's members list shows the guest
        expect(owner.locator("#members")).to_contain_text("p2", timeout=10_000)
    finally:
        owner_ctx.close()
        guest_ctx.close()


def test_malformed_rule_shows_an_inline_error_naming_the_field(page: Page, server: Server):
    page.goto(server.base + "/")
    page.select_option("#example-select", "bowling")
    page.click("#example-load")
    expect(page.locator('#outliner li[data-entity="ball"]')).to_be_visible(timeout=60_000)
    rid, token = room_of(page)
    rules = server.ok("GET", f"/api/rooms/{rid}", token=token)["spec"]["rules"]
    import json

    broken = json.loads(json.dumps(rules))
    broken[0]["on"]["tag"] = "no_such_tag"
    page.fill("#rules-editor", json.dumps(broken, indent=1))
    page.click("#rules-apply")
    errors = page.locator("#rules-errors")
    expect(errors).to_contain_text("rules", timeout=15_000)
    expect(errors).to_contain_text("no_such_tag")
    # nothing was lost: the server kept the old rules
    assert server.ok("GET", f"/api/rooms/{rid}", token=token)["spec"]["rules"] == rules


def _poll(check, what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except AssertionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out: {what}")
