// Browser key events → the spec's key names (worldgen.spec.KEY_NAMES), and the values of a
// player's controls from the keys held.

const NAMED = {
  ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down",
  " ": "space", Spacebar: "space", Enter: "return", Tab: "tab", Escape: "escape", Esc: "escape",
  Backspace: "backspace",
};
const SIDED = { Shift: "shift", Control: "ctrl", Alt: "alt" };
const PUNCTUATION = new Set([",", ".", "/", ";", "'", "[", "]", "-", "="]);
// Physical keys, for when a modifier (Shift, AltGr) changed the character.
const BY_CODE = {
  Comma: ",", Period: ".", Slash: "/", Semicolon: ";", Quote: "'", BracketLeft: "[", BracketRight: "]",
  Minus: "-", Equal: "=", Space: "space", NumpadEnter: "return",
};

/** The spec's name for a KeyboardEvent's key, or null if the spec has none. */
export function keyName(event) {
  const key = event.key;
  if (key in NAMED) return NAMED[key];
  if (key in SIDED) return `${event.location === 2 ? "right" : "left"} ${SIDED[key]}`;
  if (/^F([1-9]|1[0-2])$/.test(key)) return key.toLowerCase();
  if (typeof key === "string" && key.length === 1) {
    const lower = key.toLowerCase();
    if (/^[a-z0-9]$/.test(lower)) return lower;
    if (PUNCTUATION.has(key)) return key;
  }
  const code = event.code || "";
  let m = /^Key([A-Z])$/.exec(code);
  if (m) return m[1].toLowerCase();
  m = /^(?:Digit|Numpad)([0-9])$/.exec(code);
  if (m) return m[1];
  return BY_CODE[code] || null;
}

/** The spec's name for a mouse button (MouseEvent.button). */
export function mouseName(button) {
  return ["mouse left", "mouse middle", "mouse right"][button] || null;
}

/**
 * The controls of the client's own player (hello.controls: name → {type, range, keys}) and the
 * keys held now. `values()` gives every control's value; `bound(name)` says if a key matters.
 */
export class ControlState {
  constructor(controls = {}) {
    this.setControls(controls);
  }

  setControls(controls) {
    this.controls = controls && typeof controls === "object" ? controls : {};
    this.held = new Set();
    this.extra = new Map(); // control name → number of synthetic presses (mouse fallback)
    this.boundKeys = new Set();
    for (const c of Object.values(this.controls)) for (const k of c.keys || []) this.boundKeys.add(k);
  }

  get empty() {
    return Object.keys(this.controls).length === 0;
  }

  bound(name) {
    return name !== null && this.boundKeys.has(name);
  }

  /** The first button control, for the left mouse button when no control binds "mouse left". */
  firstButton() {
    return Object.entries(this.controls).find(([, c]) => c.type === "button")?.[0] || null;
  }

  press(name) {
    if (this.held.has(name)) return false;
    this.held.add(name);
    return true;
  }

  release(name) {
    return this.held.delete(name);
  }

  pressControl(control) {
    this.extra.set(control, (this.extra.get(control) || 0) + 1);
  }

  releaseControl(control) {
    const n = (this.extra.get(control) || 0) - 1;
    if (n > 0) this.extra.set(control, n);
    else this.extra.delete(control);
  }

  releaseAll() {
    this.held.clear();
    this.extra.clear();
  }

  /** Every control's value with nothing held. */
  restValues() {
    const { held, extra } = this;
    this.held = new Set();
    this.extra = new Map();
    const out = this.values();
    this.held = held;
    this.extra = extra;
    return out;
  }

  values() {
    const out = {};
    for (const [name, c] of Object.entries(this.controls)) out[name] = this.valueOf(name, c);
    return out;
  }

  valueOf(name, c) {
    const [lo, hi] = rangeOf(c);
    const rest = clamp(0, lo, hi);
    const keys = c.keys || [];
    if (c.type === "axis") {
      let neg = false;
      let pos = false;
      keys.forEach((k, i) => {
        if (this.held.has(k)) {
          if (i % 2 === 0) neg = true;
          else pos = true;
        }
      });
      if (neg && !pos) return lo;
      if (pos && !neg) return hi;
      return rest;
    }
    const pressed = keys.some((k) => this.held.has(k)) || this.extra.has(name);
    if (pressed) return hi;
    return lo <= 0 && 0 <= hi ? 0 : lo;
  }

  /** "move_x: a / d · throw: space" — the bindings as help text. */
  describe() {
    return Object.entries(this.controls)
      .map(([name, c]) => {
        const keys = c.keys || [];
        if (!keys.length) return `${name}: (no keys)`;
        if (c.type === "axis") {
          const pairs = [];
          for (let i = 0; i < keys.length; i += 2) pairs.push(keys.slice(i, i + 2).join(" / "));
          return `${name}: ${pairs.join(", ")}`;
        }
        return `${name}: ${keys.join(", ")}`;
      })
      .join(" · ");
  }
}

function rangeOf(c) {
  const r = Array.isArray(c.range) && c.range.length === 2 ? c.range : [0, 1];
  return [Number(r[0]), Number(r[1])];
}

function clamp(v, lo, hi) {
  return Math.min(Math.max(v, lo), hi);
}
