// The event log (newest first, capped) and "why": the causal chain of one event.

import { clear, fmtNumber, h } from "./dom.js";

const MAX_EVENTS = 300;

export function describeEvent(ev) {
  const subjects = (ev.subjects || []).join(", ");
  return `tick ${ev.tick} ${ev.kind}${subjects ? ` ${subjects}` : ""}`;
}

function dataSummary(data) {
  if (!data || typeof data !== "object") return "";
  return Object.entries(data)
    .slice(0, 3)
    .map(([k, v]) => `${k}=${typeof v === "number" ? fmtNumber(v) : JSON.stringify(v)}`)
    .join(" ")
    .slice(0, 80);
}

export class EventLog {
  /**
   * @param {HTMLElement} list   the <ul> of events
   * @param {HTMLElement} whyBox where a chain is shown
   * @param {(id: number) => Promise<object>} fetchWhy  GET …/why/{id}
   * @param {(err: Error) => void} onError
   */
  constructor(list, whyBox, fetchWhy, onError) {
    this.list = list;
    this.whyBox = whyBox;
    this.fetchWhy = fetchWhy;
    this.onError = onError;
    this.seen = new Set();
    this.held = false; // while the pointer is over the log, new events wait so rows hold still
    this.waiting = [];
    list.addEventListener("mouseenter", () => this.hold(true));
    list.addEventListener("mouseleave", () => this.hold(false));
    list.addEventListener("click", (e) => {
      const button = e.target.closest("button.why");
      if (!button || !list.contains(button)) return;
      const li = button.closest("li[data-event-id]");
      this.explain(Number(li.dataset.eventId), li);
    });
  }

  hold(on) {
    this.held = on;
    this.list.closest(".panel")?.classList.toggle("held", on);
    if (!on && this.waiting.length) {
      const waiting = this.waiting;
      this.waiting = [];
      this.add(waiting);
    }
  }

  /** Replaces the log (hello, or a new world after an edit). */
  reset(events) {
    clear(this.list);
    this.seen.clear();
    this.waiting = [];
    this.add(events || [], { force: true });
  }

  /** Adds events (oldest first, as the server sends them); the newest end up on top. */
  add(events, { force = false } = {}) {
    if (!events?.length) return;
    if (this.held && !force) {
      this.waiting.push(...events);
      if (this.waiting.length > MAX_EVENTS) this.waiting.splice(0, this.waiting.length - MAX_EVENTS);
      return;
    }
    const before = this.list.scrollTop > 0 ? this.list.scrollHeight : null;
    const fresh = events.filter((ev) => ev && !this.seen.has(ev.id));
    if (!fresh.length) return;
    const frag = document.createDocumentFragment();
    for (let i = fresh.length - 1; i >= 0; i -= 1) {
      if (fresh.length - i > MAX_EVENTS) break;
      frag.append(this.item(fresh[i]));
    }
    for (const ev of fresh) this.seen.add(ev.id);
    this.list.prepend(frag);
    // Scrolled down to read older events: keep them where they are.
    if (before !== null) this.list.scrollTop += this.list.scrollHeight - before;
    while (this.list.childElementCount > MAX_EVENTS) {
      const last = this.list.lastElementChild;
      this.seen.delete(Number(last.dataset.eventId));
      last.remove();
    }
  }

  item(ev) {
    const li = h("li", { dataset: { eventId: String(ev.id), kind: String(ev.kind) }, title: JSON.stringify(ev.data ?? {}) },
      h("span", { class: "ev-tick" }, `tick ${ev.tick}`),
      h("span", { class: "ev-kind" }, String(ev.kind)),
      h("span", { class: "ev-subjects" }, (ev.subjects || []).join(", ")),
      h("span", { class: "ev-data" }, dataSummary(ev.data)),
      h("button", { type: "button", class: "why", title: "what caused this?" }, "why"));
    if (ev.cause !== null && ev.cause !== undefined) li.classList.add("caused");
    return li;
  }

  async explain(eventId, li) {
    for (const node of this.list.querySelectorAll("li.explained")) node.classList.remove("explained");
    li?.classList.add("explained");
    this.whyBox.textContent = "…";
    try {
      const answer = await this.fetchWhy(eventId);
      const chain = answer?.chain || [];
      const lines = chain.map((ev, i) => `${describeEvent(ev)}${i < chain.length - 1 ? " ←" : ""}`);
      clear(this.whyBox);
      if (!lines.length) {
        this.whyBox.textContent = "no causes recorded";
        return;
      }
      lines.forEach((line, i) => {
        this.whyBox.append(h("div", { class: i === 0 ? "why-line why-event" : "why-line", dataset: { eventId: String(chain[i].id) } }, line));
      });
    } catch (err) {
      this.whyBox.textContent = "";
      this.onError(err);
    }
  }
}
