// Small DOM helpers. Text always goes in through textContent: server data is never parsed as HTML.

/** Creates an element: h("li", {class: "x", dataset: {entity: "ball"}}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = String(value);
    else if (key === "value") node.value = String(value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The element with this id (throws if the page lacks it, so a typo fails loudly). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** Shows a message in a banner element (hidden while empty). */
export function setBanner(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}

/** Enables or disables a list of elements. */
export function setEnabled(nodes, enabled) {
  for (const node of nodes) node.disabled = !enabled;
}

/** Compact text for a number: no float noise, at most 4 decimals. */
export function fmtNumber(value) {
  if (typeof value !== "number") return value === null || value === undefined ? "—" : String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Math.round(value * 1e4) / 1e4);
}

/** True when keyboard focus is somewhere text can be typed. */
export function isTextTarget(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target.getAttribute("type") || "text").toLowerCase();
  return !["checkbox", "radio", "button", "submit", "reset", "file", "color", "range"].includes(type);
}
