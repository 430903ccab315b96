// The HTTP + WebSocket client of docs/server.md. Tokens ride in `Authorization: Bearer` (HTTP)
// and `?token=` (WebSocket); everything is same-origin.

/** A failed API call: `status` is the HTTP status, `data` the JSON body ({error, errors}) if any. */
export class ApiError extends Error {
  constructor(status, data, fallback) {
    super((data && typeof data.error === "string" && data.error) || fallback || `HTTP ${status}`);
    this.status = status;
    this.data = data || {};
    this.errors = Array.isArray(this.data.errors) ? this.data.errors : [];
  }
}

export class Api {
  constructor() {
    this.token = null;
  }

  async request(method, path, body, { form = null } = {}) {
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (form) {
      init.body = form; // multipart/form-data; the browser writes the boundary
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, null, `the server did not answer (${err.message})`);
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, data, `${response.status} ${response.statusText}`);
    return data;
  }

  // ---- catalogue
  schema() { return this.request("GET", "/api/schema"); }
  examples() { return this.request("GET", "/api/examples"); }
  styles() { return this.request("GET", "/api/styles"); }

  // ---- rooms
  createRoom(body) { return this.request("POST", "/api/rooms", body); }
  room(id) { return this.request("GET", roomPath(id)); }
  putSpec(id, spec, label) { return this.request("PUT", roomPath(id, "spec"), { spec, label }); }
  prompt(id, prompt) { return this.request("POST", roomPath(id, "prompt"), { prompt }); }
  edit(id, prompt) { return this.request("POST", roomPath(id, "edit"), { prompt }); }
  undo(id) { return this.request("POST", roomPath(id, "undo"), {}); }
  redo(id) { return this.request("POST", roomPath(id, "redo"), {}); }
  control(id, action, ticks) {
    const body = { action };
    if (ticks !== undefined) body.ticks = ticks;
    return this.request("POST", roomPath(id, "control"), body);
  }
  styleImage(id, file) {
    const form = new FormData();
    form.append("image", file, file.name || "image");
    return this.request("POST", roomPath(id, "style-image"), undefined, { form });
  }
  why(id, eventId) { return this.request("GET", roomPath(id, "why", String(eventId))); }
  pick(id, x, y, viewW, viewH) {
    const q = new URLSearchParams({ x: x.toFixed(4), y: y.toFixed(4), view_w: String(viewW), view_h: String(viewH) });
    return this.request("GET", `${roomPath(id, "pick")}?${q}`);
  }
  exportWorld(id) { return this.request("GET", roomPath(id, "export")); }
  saves(id) { return this.request("GET", roomPath(id, "saves")); }
  save(id, name) { return this.request("POST", roomPath(id, "saves"), { name }); }
  load(id, saveId) { return this.request("POST", roomPath(id, "load"), { save_id: saveId }); }
  importWorld(id, body) { return this.request("POST", roomPath(id, "import"), body); }
}

function roomPath(id, ...rest) {
  return ["/api/rooms", encodeURIComponent(id), ...rest.map(encodeURIComponent)].join("/");
}

/** Close codes after which reconnecting cannot help (wrong token, unknown room). */
const FATAL_CLOSE = new Set([4403, 4404]);

/**
 * The room's live connection, reconnecting with exponential backoff.
 * Callbacks: onMessage(obj), onFrame(blob), onStatus(text, kind), onOpen(), onFatal(code, reason),
 * probe() → Promise<boolean> (true: the room or token is gone, stop reconnecting). A refused
 * handshake reaches the browser as a bare 1006, so the probe asks the HTTP API why.
 */
export class LiveSocket {
  constructor(roomId, token, handlers) {
    this.roomId = roomId;
    this.token = token;
    this.handlers = handlers;
    this.ws = null;
    this.closedByUs = false;
    this.backoff = 500;
    this.timer = null;
    this.open();
  }

  get url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/ws/rooms/${encodeURIComponent(this.roomId)}?token=${encodeURIComponent(this.token)}`;
  }

  get connected() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  open() {
    this.timer = null;
    if (this.closedByUs) return;
    this.handlers.onStatus?.(this.backoff > 500 ? "reconnecting…" : "connecting…", "pending");
    const ws = new WebSocket(this.url);
    ws.binaryType = "blob";
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.backoff = 500;
      this.handlers.onStatus?.("connected", "ok");
      this.handlers.onOpen?.();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      if (typeof ev.data === "string") {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;
        }
        this.handlers.onMessage?.(msg);
      } else {
        this.handlers.onFrame?.(ev.data);
      }
    };
    ws.onclose = async (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closedByUs) return;
      if (FATAL_CLOSE.has(ev.code)) {
        this.stopFatal(ev.code, ev.reason);
        return;
      }
      this.handlers.onStatus?.("reconnecting…", "pending");
      if (!opened && this.handlers.probe) {
        let fatal = false;
        try {
          fatal = await this.handlers.probe();
        } catch {
          fatal = false;
        }
        if (this.closedByUs) return;
        if (fatal) {
          this.stopFatal(4403, "the room refused this link");
          return;
        }
      }
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 10000);
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  stopFatal(code, reason) {
    this.handlers.onStatus?.("disconnected", "bad");
    this.handlers.onFatal?.(code, reason);
  }

  /** Sends a JSON message; false when not connected (the message is dropped). */
  send(obj) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  close() {
    this.closedByUs = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
  }
}
