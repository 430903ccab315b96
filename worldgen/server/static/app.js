// The editor's wiring: the room (from the URL fragment), the live connection, and every panel.
// Protocol: docs/server.md. Tests read window.worldgen = {room, role, player, lastState, framesDrawn}.

import { Api, LiveSocket } from "./api.js";
import { byId, clear, fmtNumber, h, isTextTarget, setBanner, setEnabled } from "./dom.js";
import { EventLog } from "./events.js";
import { Inspector } from "./inspector.js";
import { Outliner } from "./outliner.js";
import { RulesEditor } from "./rules_editor.js";
import { SchemaForms } from "./schema_form.js";
import { Viewport } from "./viewport.js";

const REWIND_TICKS = 60;
const INVITES_KEY = (id) => `worldgen.invites.${id}`;

const api = new Api();
const S = {
  roomId: null,
  token: null,
  role: null,
  player: null,
  room: null,
  lastState: null,
  selection: null,
  socket: null,
  helloSeen: false,
  view: "albedo",
  invites: null,
  busy: 0,
  edits: Promise.resolve(),
  renaming: null,
};

// ------------------------------------------------------------------ elements
const el = Object.fromEntries([
  "prompt-input", "prompt-submit", "example-select", "example-load", "trace", "error", "outliner",
  "outliner-world", "inspector", "rules-editor", "rules-apply", "rules-errors", "viewport", "keys",
  "btn-play", "btn-pause", "btn-step", "btn-rewind", "btn-reset", "tick", "variables", "outcome",
  "style-select", "style-image", "event-log", "why", "edit-prompt", "edit-submit", "btn-undo", "btn-redo",
  "history", "save-name", "btn-save", "saves-select", "btn-load", "btn-export", "import-file",
  "share-box", "share-player", "share-spectator", "role", "members", "status", "busy", "welcome",
  "world-title", "viewport-mode", "view-size",
].map((id) => [camel(id), byId(id)]));

function camel(id) {
  return id.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

const OWNER_ONLY = [el.btnPlay, el.btnPause, el.btnStep, el.btnRewind, el.btnReset, el.editPrompt, el.editSubmit,
  el.btnSave, el.saveName, el.btnLoad, el.styleImage];
const NEEDS_ROOM = [el.styleSelect, el.btnExport, el.savesSelect];

// ------------------------------------------------------------------ panels
const viewport = new Viewport(el.viewport, {
  sendInput: (controls) => S.socket?.send({ type: "input", controls }) ?? false,
  pick: (x, y, w, hgt) => pick(x, y, w, hgt),
  isRunning: () => isRunning(),
  onViewSize: () => sendView(),
  onKeysChanged: (text) => showKeys(text),
});

const outliner = new Outliner(el.outliner, el.outlinerWorld, (selection) => select(selection));
const inspector = new Inspector(el.inspector, { onChange: (scope, path, value, label) => inspectorEdit(scope, path, value, label) });
const rules = new RulesEditor(el.rulesEditor, el.rulesApply, el.rulesErrors, (list) => applyRules(list));
const events = new EventLog(el.eventLog, el.why, (id) => api.why(S.roomId, id), (err) => showError(err));

window.worldgen = {
  get room() { return S.room; },
  get role() { return S.role; },
  get player() { return S.player; },
  get lastState() { return S.lastState; },
  get framesDrawn() { return viewport.framesDrawn; },
  get roomId() { return S.roomId; },
  get selection() { return S.selection; },
};

// ------------------------------------------------------------------ messages
function showError(err) {
  if (!err) return setBanner(el.error, "");
  if (typeof err === "string") return setBanner(el.error, err);
  const message = String(err.message || err);
  const listed = (err.errors || []).filter((e) => e && (e.field || e.message));
  if (!listed.length || (listed.length === 1 && String(listed[0].message) === message)) {
    return setBanner(el.error, message);
  }
  // The summary repeats a few field errors; list them all, one per line, instead.
  const lines = [firstLine(message)];
  for (const e of listed) lines.push(`${e.field ? `${e.field}: ` : ""}${e.message}`);
  setBanner(el.error, lines.join("\n"));
}

function firstLine(text) {
  const s = String(text || "");
  const i = s.indexOf(":");
  return i > 0 && /is invalid/.test(s.slice(0, i)) ? s.slice(0, i) : s.split("\n")[0];
}

function clearError() {
  setBanner(el.error, "");
}

el.error.addEventListener("click", clearError);

function setStatus(text, kind = "") {
  el.status.textContent = text;
  el.status.className = `status ${kind}`;
}

let flashTimer = null;
function flashStatus(text) {
  const keep = { text: el.status.textContent, cls: el.status.className };
  el.status.textContent = text;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    if (el.status.textContent === text) {
      el.status.textContent = S.socket?.connected ? "connected" : keep.text;
      el.status.className = S.socket?.connected ? "status ok" : keep.cls;
    }
  }, 1500);
}

/** Runs an API call with the busy marker up; errors go to the banner unless `onError` takes them. */
async function busy(fn, { onError } = {}) {
  S.busy += 1;
  el.busy.hidden = false;
  document.body.classList.add("busy");
  try {
    return await fn();
  } catch (err) {
    if (onError) onError(err);
    else showError(err);
    return undefined;
  } finally {
    S.busy -= 1;
    if (S.busy === 0) {
      el.busy.hidden = true;
      document.body.classList.remove("busy");
    }
  }
}

// ------------------------------------------------------------------ catalogue
async function loadCatalogue() {
  const [schema, examples, styles] = await Promise.allSettled([api.schema(), api.examples(), api.styles()]);
  if (schema.status === "fulfilled") {
    inspector.setForms(new SchemaForms(schema.value));
    renderInspector();
  } else showError(`could not load the schema: ${schema.reason.message}`);
  if (examples.status === "fulfilled") {
    for (const name of examples.value.examples || []) el.exampleSelect.append(h("option", { value: name }, name));
  }
  const views = styles.status === "fulfilled" ? styles.value.views || [] : ["albedo"];
  clear(el.styleSelect);
  for (const v of views) el.styleSelect.append(h("option", { value: v }, v));
  el.styleSelect.value = S.view;
  markViews();
}

// ------------------------------------------------------------------ entering and leaving rooms
function parseHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  return { room: params.get("room"), token: params.get("token") };
}

async function openFromHash() {
  const { room, token } = parseHash();
  if (!room || !token) {
    if (S.roomId) leaveRoom();
    renderAll();
    if (room && !token) showError("This link has no token: ask for the full link.");
    return;
  }
  if (room === S.roomId && token === S.token) return;
  await enterRoom(room, token);
}

function leaveRoom() {
  S.socket?.close();
  S.socket = null;
  S.roomId = S.token = S.role = S.player = S.room = S.lastState = S.invites = null;
  S.selection = null;
  S.helloSeen = false;
  api.token = null;
  viewport.setControls({});
  viewport.blank();
  events.reset([]);
  clear(el.members);
  clear(el.savesSelect);
  setStatus("offline");
}

async function enterRoom(id, token, { room = null, invites = null } = {}) {
  leaveRoom();
  S.roomId = id;
  S.token = token;
  api.token = token;
  if (invites) storeInvites(id, invites);
  S.invites = invites || loadInvites(id);
  if (!room) {
    room = await busy(() => api.room(id), {
      onError: (err) => {
        if (err.status === 403) showError("This link's token does not open the room.");
        else if (err.status === 404) showError("There is no such room on this server (any more).");
        else showError(err);
      },
    });
    if (!room || S.roomId !== id) {
      if (S.roomId === id) {
        S.roomId = S.token = null;
        api.token = null;
        renderAll();
      }
      return;
    }
  }
  applyRoom(room, "http");
  openSocket();
  refreshSaves();
}

function openSocket() {
  const id = S.roomId;
  S.socket = new LiveSocket(id, S.token, {
    onOpen: () => sendView(),
    onMessage: (msg) => onMessage(msg),
    onFrame: (blob) => {
      viewport.drawFrame(blob);
      el.welcome.hidden = true;
    },
    onStatus: (text, kind) => setStatus(text, kind),
    probe: async () => {
      try {
        await api.room(id);
        return false;
      } catch (err) {
        return err.status === 403 || err.status === 404;
      }
    },
    onFatal: (code, reason) => {
      showError(`The live connection was refused${reason ? `: ${reason}` : ""}. The link's token may be wrong, or the room gone.`);
    },
  });
}

function sendView() {
  S.socket?.send({ type: "view", view: S.view, size: viewport.size });
}

async function createRoom(body) {
  const made = await busy(() => api.createRoom(body));
  if (!made) return false;
  clearError();
  history.replaceState(null, "", `#room=${encodeURIComponent(made.room_id)}&token=${encodeURIComponent(made.token)}`);
  await enterRoom(made.room_id, made.token, { room: made.room || null, invites: made.invites });
  return true;
}

function storeInvites(id, invites) {
  try {
    sessionStorage.setItem(INVITES_KEY(id), JSON.stringify(invites));
  } catch {
    // storage off (private mode): the share box stays hidden after a reload
  }
}

function loadInvites(id) {
  try {
    const raw = sessionStorage.getItem(INVITES_KEY(id));
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ the socket's messages
function onMessage(msg) {
  switch (msg.type) {
    case "hello":
      S.helloSeen = true;
      S.role = msg.role ?? S.role;
      S.player = msg.player ?? null;
      if (msg.room) applyRoom(msg.room, "socket");
      viewport.setControls(msg.controls || {});
      events.reset(msg.events || []);
      renderRole();
      break;
    case "state":
      onState(msg);
      break;
    case "spec":
      if (msg.room) {
        if ("player" in msg.room) S.player = msg.room.player;
        applyRoom(msg.room, "socket");
        const controls = msg.controls ?? msg.room.controls;
        if (controls) viewport.setControls(controls);
      }
      if (Array.isArray(msg.events)) events.reset(msg.events);
      break;
    case "members":
      renderMembers(msg.members || []);
      break;
    case "error":
      onServerError(String(msg.message ?? "error"));
      break;
    case "rate_limited":
      flashStatus("rate limited: inputs dropped");
      break;
    default:
      break;
  }
}

function onServerError(message) {
  const m = /^view '([^']+)' unavailable/.exec(message);
  if (m) {
    S.view = "albedo";
    el.styleSelect.value = "albedo";
  }
  showError(message);
}

function onState(msg) {
  const entities = { ...(S.lastState?.entities || {}), ...(msg.entities || {}) };
  S.lastState = { ...msg, entities };
  renderClock(msg.tick, msg.time, msg.running);
  renderVariables(msg.variables || {});
  renderOutcome(msg.outcome, msg.time);
  if (msg.events?.length) events.add(msg.events);
}

function isRunning() {
  return !!(S.lastState ? S.lastState.running : S.room?.running);
}

// ------------------------------------------------------------------ the room → the page
/** Refreshes every panel from a room (GET, an edit's answer, hello, or a spec message). */
function applyRoom(room, source) {
  if (!room || (S.roomId && room.room_id && room.room_id !== S.roomId)) return;
  S.room = room;
  S.role = room.role ?? S.role;
  if (source === "http" && !S.helloSeen) S.player = room.player ?? null;
  const spec = room.spec || {};
  const names = new Set((spec.entities || []).map((e) => e.name));
  if (S.selection?.entity && !names.has(S.selection.entity)) {
    // Renamed in the inspector: follow the entity to its new name.
    const to = S.renaming?.from === S.selection.entity ? S.renaming.to : null;
    S.selection = to && names.has(to) ? { entity: to } : null;
  }
  S.lastState = {
    type: "state", tick: room.tick, time: room.time, running: room.running, hash: room.hash,
    variables: room.variables || {}, outcome: room.outcome ?? null, events: [],
    entities: Object.fromEntries(Object.entries(room.entities || {}).map(([k, v]) => [k, v.position])),
  };
  if (S.view === "palette" && Array.isArray(room.views) && !room.views.includes("palette")) {
    S.view = "albedo";
    el.styleSelect.value = "albedo";
    sendView();
  }
  renderAll();
}

function renderAll() {
  const room = S.room;
  const spec = room?.spec || null;
  const owner = S.role === "owner" && !!room;
  document.title = room ? `${room.title || "world"} — worldgen` : "worldgen editor";
  el.worldTitle.textContent = room ? spec?.metadata?.title || room.title || "" : "";
  el.welcome.hidden = !!room;
  el.outlinerWorld.hidden = !room;
  outliner.render(spec);
  outliner.mark(S.selection);
  renderInspector();
  if (room) rules.load(spec?.rules ?? []);
  else rules.load(null, { force: true });
  rules.setEditable(owner);
  el.trace.textContent = room
    ? room.trace || "(no reasoning trace: this world came from an example, a spec or a file, not a prompt)"
    : "";
  renderHistory(room?.history);
  setEnabled(OWNER_ONLY, owner);
  setEnabled(NEEDS_ROOM, !!room);
  el.btnUndo.disabled = !(owner && room.history?.can_undo);
  el.btnRedo.disabled = !(owner && room.history?.can_redo);
  el.btnLoad.disabled = !owner || !el.savesSelect.value;
  el.promptSubmit.textContent = owner ? "Rebuild" : "Create";
  el.promptSubmit.title = owner
    ? "Replace this room's world with one built from the prompt (Ctrl+Enter)"
    : "Build a world from the prompt in a new room (Ctrl+Enter)";
  renderRole();
  renderShare();
  markViews();
  if (room) {
    renderClock(S.lastState?.tick ?? room.tick, S.lastState?.time ?? room.time, isRunning());
    renderVariables(S.lastState?.variables ?? room.variables ?? {});
    renderOutcome(S.lastState?.outcome ?? room.outcome, S.lastState?.time ?? room.time);
  } else {
    el.tick.textContent = "";
    clear(el.variables);
    renderOutcome(null);
    el.keys.textContent = "";
    el.viewportMode.textContent = "";
  }
}

function renderInspector() {
  inspector.render(S.room?.spec || null, S.selection, S.role === "owner" && !!S.room);
}

function renderRole() {
  if (!S.room) {
    el.role.textContent = "";
    return;
  }
  el.role.textContent = S.player ? `${S.role} · ${S.player}` : S.role || "";
}

function renderShare() {
  const show = S.role === "owner" && !!S.room && !!S.invites?.player;
  el.shareBox.hidden = !show;
  if (!show) return;
  const base = `${location.origin}/#room=${encodeURIComponent(S.roomId)}&token=`;
  el.sharePlayer.value = base + encodeURIComponent(S.invites.player);
  el.shareSpectator.value = base + encodeURIComponent(S.invites.spectator || "");
}

function renderHistory(hist) {
  clear(el.history);
  if (!hist) return;
  (hist.labels || []).forEach((label, i) => {
    const li = h("li", { dataset: { index: String(i) }, title: label }, label);
    if (i === hist.position) {
      li.classList.add("current");
      li.setAttribute("aria-current", "step");
    }
    el.history.append(li);
  });
  el.history.querySelector("li.current")?.scrollIntoView({ block: "nearest" });
}

let clockKey = "";
function renderClock(tick, time, running) {
  const key = `${tick}|${time}|${running}`;
  if (key === clockKey) return;
  clockKey = key;
  el.tick.textContent = `tick ${tick ?? 0} · ${Number(time ?? 0).toFixed(2)} s${running ? "" : " · paused"}`;
  el.btnPlay.classList.toggle("active", !!running);
  el.btnPause.classList.toggle("active", !running && !!S.room);
  el.viewport.classList.toggle("running", !!running);
  el.viewportMode.textContent = !S.room ? "" : running
    ? "Running · Alt-click selects"
    : "Paused · click to select";
}

const varItems = new Map();
function renderVariables(vars) {
  const names = Object.keys(vars);
  if (names.length !== varItems.size || names.some((n) => !varItems.has(n))) {
    clear(el.variables);
    varItems.clear();
    for (const n of names) {
      const value = h("span", { class: "var-value" });
      el.variables.append(h("li", { dataset: { variable: n } }, h("span", { class: "var-name" }, n), " = ", value));
      varItems.set(n, value);
    }
  }
  for (const n of names) {
    const text = fmtNumber(vars[n]);
    const node = varItems.get(n);
    if (node.textContent !== text) node.textContent = text;
  }
}

/** The world's end: its outcome, or "time up" when the time limit truncated it (no outcome then). */
function renderOutcome(outcome, time) {
  let text = "";
  if (outcome !== null && outcome !== undefined && outcome !== "") {
    text = `outcome: ${typeof outcome === "string" ? outcome : JSON.stringify(outcome)}`;
  } else {
    const limit = S.room?.spec?.physics?.time_limit;
    if (typeof limit === "number" && typeof time === "number" && time >= limit - 1e-6) text = "time up";
  }
  el.outcome.hidden = !text;
  if (el.outcome.textContent !== text) el.outcome.textContent = text;
}

function renderMembers(members) {
  clear(el.members);
  for (const m of members) {
    el.members.append(h("li", {}, m.player ? `${m.role} · ${m.player}` : String(m.role)));
  }
}

function showKeys(text) {
  el.keys.textContent = text ? `keys — ${text}` : S.room ? (S.player ? "no key bindings" : "watching (no controls)") : "";
  el.keys.title = el.keys.textContent;
}

function markViews() {
  const allowed = S.room?.views;
  for (const option of el.styleSelect.options) {
    option.disabled = Array.isArray(allowed) && !allowed.includes(option.value);
  }
}

// ------------------------------------------------------------------ selection and editing
function select(selection) {
  S.selection = selection;
  outliner.mark(selection);
  inspector.clearErrors();
  renderInspector();
}

async function pick(x, y, w, hgt) {
  if (!S.roomId) return;
  try {
    const answer = await api.pick(S.roomId, x, y, w, hgt);
    if (answer?.entity) select({ entity: answer.entity });
    else select(null);
  } catch (err) {
    showError(err);
  }
}

function setAt(target, path, value) {
  let node = target;
  for (let i = 0; i < path.length - 1; i += 1) {
    const key = path[i];
    if (node[key] === null || typeof node[key] !== "object") node[key] = /^\d+$/.test(path[i + 1]) ? [] : {};
    node = node[key];
  }
  node[path[path.length - 1]] = value;
}

function shortValue(value) {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Edits run one after another, each on the spec the previous one produced. */
function queueEdit(task) {
  S.edits = S.edits.then(task, task);
  return S.edits;
}

function inspectorEdit(scope, path, value, label) {
  const roomId = S.roomId;
  return queueEdit(async () => {
    if (!S.room || S.roomId !== roomId || S.role !== "owner") return;
    const spec = structuredClone(S.room.spec);
    let fullLabel = label || `${path.join(".")} = ${shortValue(value)}`;
    let rename = null;
    if (scope.entity !== undefined) {
      const i = spec.entities.findIndex((e) => e.name === scope.name);
      if (i < 0) return showError(`${scope.name} is no longer in the world`);
      setAt(spec.entities[i], path, value);
      fullLabel = `entities[${i}].${fullLabel}`;
      if (path.length === 1 && path[0] === "name") rename = value;
    } else {
      setAt(spec, path, value);
    }
    inspector.clearErrors();
    clearError();
    S.renaming = rename ? { from: scope.name, to: rename } : null;
    const room = await busy(() => api.putSpec(roomId, spec, fullLabel), {
      onError: (err) => {
        const rest = inspector.showErrors(err.errors || []);
        if (rest.length || !(err.errors || []).length) showError({ message: err.message, errors: rest });
      },
    });
    if (room && S.roomId === roomId) applyRoom(room, "http");
    S.renaming = null;
  });
}

async function applyRules(list) {
  const roomId = S.roomId;
  let failure = null;
  await queueEdit(async () => {
    if (!S.room || S.roomId !== roomId) return;
    const spec = structuredClone(S.room.spec);
    spec.rules = list;
    S.busy += 1;
    el.busy.hidden = false;
    try {
      const room = await api.putSpec(roomId, spec, `rules (${list.length})`);
      clearError();
      if (S.roomId === roomId) applyRoom(room, "http");
    } catch (err) {
      failure = err;
    } finally {
      S.busy -= 1;
      el.busy.hidden = S.busy === 0;
    }
  });
  if (failure) throw failure;
}

// ------------------------------------------------------------------ owner actions
async function roomCall(fn) {
  if (!S.roomId) return undefined;
  const roomId = S.roomId;
  clearError();
  const room = await busy(fn);
  if (room && S.roomId === roomId && room.room_id) applyRoom(room, "http");
  return room;
}

async function submitPrompt() {
  const text = el.promptInput.value.trim();
  if (!text) {
    showError("Type a prompt first: what world should be built?");
    el.promptInput.focus();
    return;
  }
  if (S.roomId && S.role === "owner") {
    const room = await roomCall(() => api.prompt(S.roomId, text));
    if (room) S.selection = null;
    if (room) renderAll();
  } else {
    await createRoom({ prompt: text });
  }
}

el.promptSubmit.addEventListener("click", submitPrompt);
el.promptInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey || !e.shiftKey)) {
    e.preventDefault();
    submitPrompt();
  }
});

el.exampleLoad.addEventListener("click", () => {
  const name = el.exampleSelect.value;
  if (!name) {
    showError("Pick an example first.");
    return;
  }
  createRoom({ example: name });
});

el.editSubmit.addEventListener("click", submitEdit);
el.editPrompt.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    submitEdit();
  }
});

async function submitEdit() {
  const text = el.editPrompt.value.trim();
  if (!text || !S.roomId) return;
  const room = await roomCall(() => api.edit(S.roomId, text));
  if (room) el.editPrompt.value = "";
}

const CONTROLS = [[el.btnPlay, "play"], [el.btnPause, "pause"], [el.btnStep, "step", 1], [el.btnRewind, "rewind", REWIND_TICKS],
  [el.btnReset, "reset"]];
for (const [button, action, ticks] of CONTROLS) {
  button.addEventListener("click", async () => {
    const room = await roomCall(() => api.control(S.roomId, action, ticks));
    if (room && action === "play") el.viewport.focus({ preventScroll: true });
  });
}

function undo() {
  if (!el.btnUndo.disabled) roomCall(() => api.undo(S.roomId));
}

function redo() {
  if (!el.btnRedo.disabled) roomCall(() => api.redo(S.roomId));
}

el.btnUndo.addEventListener("click", undo);
el.btnRedo.addEventListener("click", redo);
document.addEventListener("keydown", (e) => {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || isTextTarget(e.target)) return;
  const key = e.key.toLowerCase();
  if (key === "z") {
    e.preventDefault();
    if (e.shiftKey) redo();
    else undo();
  } else if (key === "y") {
    e.preventDefault();
    redo();
  }
});

el.viewSize.addEventListener("change", () => {
  const [w, hgt] = el.viewSize.value.split("x").map(Number);
  viewport.setSize([w, hgt]);
  try {
    localStorage.setItem("worldgen.viewSize", el.viewSize.value);
  } catch {
    // no storage: the choice lasts this page only
  }
});
try {
  const saved = localStorage.getItem("worldgen.viewSize");
  if (saved && [...el.viewSize.options].some((o) => o.value === saved)) {
    el.viewSize.value = saved;
    const [w, hgt] = saved.split("x").map(Number);
    viewport.setSize([w, hgt]);
  }
} catch {
  // no storage
}

el.styleSelect.addEventListener("change", () => {
  S.view = el.styleSelect.value;
  sendView();
});

el.styleImage.addEventListener("change", async () => {
  const file = el.styleImage.files?.[0];
  el.styleImage.value = "";
  if (!file || !S.roomId) return;
  const room = await roomCall(() => api.styleImage(S.roomId, file));
  if (room) {
    S.view = "palette";
    markViews();
    el.styleSelect.value = "palette";
    sendView();
  }
});

// ------------------------------------------------------------------ saves, export, import
async function refreshSaves(list) {
  if (!S.roomId) return;
  let saves = list;
  if (!saves) {
    try {
      saves = (await api.saves(S.roomId)).saves || [];
    } catch {
      saves = [];
    }
  }
  const keep = el.savesSelect.value;
  clear(el.savesSelect);
  if (!saves.length) el.savesSelect.append(h("option", { value: "" }, "no saves yet"));
  for (const s of [...saves].reverse()) {
    el.savesSelect.append(h("option", { value: String(s.id), title: s.created || "" },
      `${s.name} · tick ${s.tick}`));
  }
  if (keep && [...el.savesSelect.options].some((o) => o.value === keep)) el.savesSelect.value = keep;
  el.btnLoad.disabled = S.role !== "owner" || !el.savesSelect.value;
}

el.savesSelect.addEventListener("change", () => {
  el.btnLoad.disabled = S.role !== "owner" || !el.savesSelect.value;
});

el.btnSave.addEventListener("click", async () => {
  if (!S.roomId) return;
  const name = el.saveName.value.trim() || `tick ${S.lastState?.tick ?? 0}`;
  clearError();
  const answer = await busy(() => api.save(S.roomId, name));
  if (answer) {
    el.saveName.value = "";
    await refreshSaves(answer.saves || []);
    flashStatus(`saved “${name}”`);
  }
});

el.saveName.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    el.btnSave.click();
  }
});

el.btnLoad.addEventListener("click", () => {
  const id = Number(el.savesSelect.value);
  if (!Number.isInteger(id) || !el.savesSelect.value) return;
  roomCall(() => api.load(S.roomId, id));
});

el.btnExport.addEventListener("click", async () => {
  if (!S.roomId) return;
  const data = await busy(() => api.exportWorld(S.roomId));
  if (!data) return;
  const title = S.room?.title || data.spec?.metadata?.title || "world";
  const blob = new Blob([JSON.stringify(data, null, 1)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: `${fileName(title)}.json`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
});

function fileName(title) {
  return String(title).replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "_").trim().slice(0, 80) || "world";
}

el.importFile.addEventListener("change", async () => {
  const file = el.importFile.files?.[0];
  el.importFile.value = "";
  if (!file) return;
  let parsed;
  try {
    parsed = JSON.parse(await file.text());
  } catch (err) {
    showError(`${file.name} is not JSON: ${err.message}`);
    return;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    showError(`${file.name} does not hold a world (a JSON object)`);
    return;
  }
  const body = "format" in parsed ? { world: parsed } : { spec: parsed };
  if (S.roomId && S.role === "owner") {
    const room = await roomCall(() => api.importWorld(S.roomId, body));
    if (room) flashStatus(`imported ${file.name}`);
  } else {
    await createRoom(body);
  }
});

// ------------------------------------------------------------------ sharing
for (const button of document.querySelectorAll("button.copy")) {
  button.addEventListener("click", async () => {
    const input = byId(button.dataset.copy);
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch {
      button.textContent = document.execCommand?.("copy") ? "Copied" : "Select + Ctrl+C";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
}
for (const input of [el.sharePlayer, el.shareSpectator]) input.addEventListener("focus", () => input.select());

// ------------------------------------------------------------------ start
window.addEventListener("hashchange", () => openFromHash());
renderAll();
loadCatalogue();
openFromHash();
