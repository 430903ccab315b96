// The outliner: the world item, then one item per entity of the spec.

import { clear, h } from "./dom.js";

export class Outliner {
  /**
   * @param {HTMLElement} list       #outliner (a <ul>)
   * @param {HTMLElement} worldItem  #outliner-world
   * @param {(selection) => void} onSelect  called with {entity: name} or {world: true}
   */
  constructor(list, worldItem, onSelect) {
    this.list = list;
    this.worldItem = worldItem;
    this.onSelect = onSelect;
    this.key = null;
    list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-entity]");
      if (li && list.contains(li)) onSelect({ entity: li.dataset.entity });
    });
    worldItem.addEventListener("click", () => onSelect({ world: true }));
    for (const node of [list, worldItem]) {
      node.addEventListener("keydown", (e) => {
        if (e.key !== "Enter" && e.key !== " ") return;
        const li = e.target.closest("li[data-entity], #outliner-world");
        if (!li) return;
        e.preventDefault();
        li.click();
      });
    }
  }

  render(spec) {
    const entities = spec?.entities || [];
    const key = JSON.stringify(entities.map((e) => [e.name, e.kind, !!e.static, !!e.sensor]));
    if (key === this.key) return;
    this.key = key;
    clear(this.list);
    for (const e of entities) {
      const badges = [e.static ? "static" : null, e.sensor ? "sensor" : null].filter(Boolean).join(" ");
      this.list.append(h("li", { dataset: { entity: e.name }, tabindex: "0", title: `${e.name} (${e.kind})` },
        h("span", { class: "ent-name" }, e.name),
        h("span", { class: "ent-kind" }, e.kind),
        badges ? h("span", { class: "ent-badge" }, badges) : null));
    }
    if (!entities.length) this.list.append(h("li", { class: "hint" }, spec ? "no entities" : "no world yet"));
  }

  /** Marks the selection (class `selected`) and scrolls it into view. */
  mark(selection) {
    this.worldItem.classList.toggle("selected", !!selection?.world);
    for (const li of this.list.querySelectorAll("li[data-entity]")) {
      const on = li.dataset.entity === selection?.entity;
      li.classList.toggle("selected", on);
      if (on) li.scrollIntoView({ block: "nearest" });
    }
  }
}
