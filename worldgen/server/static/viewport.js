// The viewport: draws the room's JPEG frames on a canvas, turns keys and mouse buttons into the
// player's control values, and turns clicks into picks (what is under the pointer).

import { ControlState, keyName, mouseName } from "./keys.js";

const INPUT_INTERVAL_MS = 34; // at most ~30 input messages per second
export const SIZES = [[320, 240], [480, 360], [640, 480]]; // frame sizes one may ask for (4:3)

export class Viewport {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {object} hooks sendInput(controls) → bool, pick(x, y, w, h), isRunning() → bool,
   *   onFrameDrawn(), onViewSize([w, h]), onKeysChanged(text)
   */
  constructor(canvas, hooks) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.hooks = hooks;
    this.controls = new ControlState();
    this.size = SIZES[0];
    this.framesDrawn = 0;
    this.decoding = false;
    this.pendingFrame = null;
    this.lastSent = {};
    this.latched = new Set();
    this.lastSendAt = 0;
    this.sendTimer = null;
    this.mouseHeld = new Map(); // mouse button → key name or {control}
    canvas.width = this.size[0];
    canvas.height = this.size[1];
    this.blank();
    this.listen();
  }

  // ------------------------------------------------------------ frames
  blank() {
    this.ctx.fillStyle = "#15171b";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Draws a JPEG frame (a Blob); while one decodes, only the newest waiting frame is kept. */
  drawFrame(blob) {
    if (this.decoding) {
      this.pendingFrame = blob;
      return;
    }
    this.decode(blob);
  }

  async decode(blob) {
    this.decoding = true;
    try {
      const bitmap = await createImageBitmap(blob);
      this.ctx.drawImage(bitmap, 0, 0, this.canvas.width, this.canvas.height);
      bitmap.close?.();
      this.framesDrawn += 1;
      this.hooks.onFrameDrawn?.(this.framesDrawn);
    } catch (err) {
      // a truncated or undecodable frame: skip it, the next one replaces it
    } finally {
      this.decoding = false;
      if (this.pendingFrame) {
        const next = this.pendingFrame;
        this.pendingFrame = null;
        this.decode(next);
      }
    }
  }

  /** Sets the frame size asked of the server (bigger frames cost the server more time). */
  setSize(size) {
    if (size[0] === this.size[0] && size[1] === this.size[1]) return;
    this.size = [size[0], size[1]];
    this.canvas.width = size[0];
    this.canvas.height = size[1];
    this.blank();
    this.hooks.onViewSize?.(this.size);
  }

  /** (x, y) in 0..1 of the drawn picture under a pointer event, or null outside it. */
  pointToView(event) {
    const rect = this.canvas.getBoundingClientRect();
    const [w, h] = this.size;
    const scale = Math.min(rect.width / w, rect.height / h);
    const dw = w * scale;
    const dh = h * scale;
    const x = (event.clientX - rect.left - (rect.width - dw) / 2) / dw;
    const y = (event.clientY - rect.top - (rect.height - dh) / 2) / dh;
    if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return null;
    return [x, y];
  }

  // ------------------------------------------------------------ controls
  /** The client's own controls (hello.controls); resets what the server holds for us. */
  setControls(controls) {
    this.controls.setControls(controls);
    this.lastSent = this.controls.values();
    this.latched.clear();
    this.mouseHeld.clear();
    this.hooks.onKeysChanged?.(this.controls.empty ? "" : this.controls.describe());
  }

  /** After a reconnect the server forgot our inputs: start again from nothing held. */
  resync() {
    this.lastSent = this.controls.restValues();
    this.latched.clear();
    this.update();
  }

  update() {
    const now = performance.now();
    const wait = this.lastSendAt + INPUT_INTERVAL_MS - now;
    if (wait > 0) {
      if (!this.sendTimer) this.sendTimer = setTimeout(() => {
        this.sendTimer = null;
        this.update();
      }, wait);
      return;
    }
    const values = this.controls.values();
    const diff = {};
    for (const [name, v] of Object.entries(values)) if (this.lastSent[name] !== v) diff[name] = v;
    // A button pressed and released before we could send: send the press, then the release.
    const presses = {};
    for (const name of this.latched) {
      const c = this.controls.controls[name];
      if (c && values[name] === this.lastSent[name]) presses[name] = Number(c.range?.[1] ?? 1);
    }
    this.latched.clear();
    if (Object.keys(presses).length) this.send(presses);
    if (Object.keys(diff).length) this.send(diff);
  }

  send(controls) {
    if (!this.hooks.sendInput?.(controls)) return;
    this.lastSendAt = performance.now();
    Object.assign(this.lastSent, controls);
  }

  pressKey(name) {
    if (!this.controls.press(name)) return;
    for (const [cname, c] of Object.entries(this.controls.controls)) {
      if (c.type === "button" && (c.keys || []).includes(name)) this.latched.add(cname);
    }
    this.update();
  }

  releaseKey(name) {
    if (this.controls.release(name)) this.update();
  }

  releaseAll() {
    this.controls.releaseAll();
    this.mouseHeld.clear();
    this.update();
  }

  // ------------------------------------------------------------ DOM events
  listen() {
    const c = this.canvas;
    c.addEventListener("keydown", (e) => {
      const name = keyName(e);
      if (!this.controls.bound(name)) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") return; // undo / redo
      e.preventDefault();
      this.pressKey(name);
    });
    c.addEventListener("keyup", (e) => {
      const name = keyName(e);
      if (!this.controls.bound(name)) return;
      e.preventDefault();
      this.releaseKey(name);
    });
    c.addEventListener("blur", () => this.releaseAll());
    c.addEventListener("mousedown", (e) => {
      c.focus({ preventScroll: true });
      const running = this.hooks.isRunning?.();
      if (e.button === 0 && (!running || e.altKey)) {
        e.preventDefault();
        const at = this.pointToView(e);
        if (at) this.hooks.pick?.(at[0], at[1], this.size[0], this.size[1]);
        return;
      }
      if (!running) return;
      const name = mouseName(e.button);
      if (this.controls.bound(name)) {
        e.preventDefault();
        this.mouseHeld.set(e.button, { key: name });
        this.pressKey(name);
      } else if (e.button === 0) {
        const control = this.controls.firstButton();
        if (!control) return;
        e.preventDefault();
        this.mouseHeld.set(e.button, { control });
        this.controls.pressControl(control);
        this.latched.add(control);
        this.update();
      }
    });
    window.addEventListener("mouseup", (e) => {
      const held = this.mouseHeld.get(e.button);
      if (!held) return;
      this.mouseHeld.delete(e.button);
      if (held.key) this.releaseKey(held.key);
      else {
        this.controls.releaseControl(held.control);
        this.update();
      }
    });
    c.addEventListener("contextmenu", (e) => {
      if (this.controls.bound("mouse right")) e.preventDefault();
    });
  }
}
