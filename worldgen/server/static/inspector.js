// The inspector: a schema-generated form for the selected entity, or for the world's settings.

import { clear, h } from "./dom.js";
import { clearFieldErrors, normalizeField, showFieldError } from "./schema_form.js";

export const WORLD_SECTIONS = ["metadata", "physics", "variables", "style"];

export class Inspector {
  /**
   * @param {HTMLElement} container  #inspector
   * @param {object} hooks  onChange(scope, path, value, label) where scope is {entity: index, name} or {world: true}
   */
  constructor(container, hooks) {
    this.container = container;
    this.hooks = hooks;
    this.forms = null;
    this.key = null;
    this.scope = null;
    this.form = null;
  }

  setForms(forms) {
    this.forms = forms;
    this.key = null;
  }

  /** Draws the form for `selection` ({entity: name} | {world: true} | null); skipped when nothing changed. */
  render(spec, selection, editable) {
    let slice = null;
    let scope = null;
    if (spec && selection?.entity) {
      const index = (spec.entities || []).findIndex((e) => e.name === selection.entity);
      if (index >= 0) {
        slice = spec.entities[index];
        scope = { entity: index, name: selection.entity };
      }
    } else if (spec && selection?.world) {
      slice = Object.fromEntries(WORLD_SECTIONS.map((k) => [k, spec[k]]));
      scope = { world: true };
    }
    const key = JSON.stringify([scope, editable, slice, !!this.forms]);
    if (key === this.key) return;
    this.key = key;
    const focused = this.container.contains(document.activeElement) ? document.activeElement?.dataset?.field : null;
    const openGroups = new Set([...this.container.querySelectorAll("details.group:not([open])")].map((d) => d.dataset.group));
    clear(this.container);
    this.scope = scope;
    this.form = null;
    if (!scope) {
      this.container.append(h("p", { class: "hint" },
        spec ? "Select an entity in the outliner or click one in the paused viewport." : "No world yet."));
      return;
    }
    if (!this.forms) {
      this.container.append(h("p", { class: "hint" }, "Loading the schema…"));
      return;
    }
    const opts = {
      disabled: !editable,
      onChange: (path, value, label) => this.hooks.onChange(scope, path, value, label),
      onLocalError: (field, message) => {
        clearFieldErrors(this.form);
        showFieldError(this.form, field, message);
      },
    };
    if (scope.entity !== undefined) {
      this.container.append(h("div", { class: "inspector-head" },
        h("span", { class: "inspector-name" }, slice.name),
        h("span", { class: "inspector-kind" }, slice.kind),
        h("span", { class: "muted" }, `entities[${scope.entity}]`)));
      this.form = this.forms.objectForm(this.forms.def("Entity"), slice, { ...opts, path: [] });
    } else {
      this.container.append(h("div", { class: "inspector-head" }, h("span", { class: "inspector-name" }, "World")));
      this.form = this.forms.objectForm(this.forms.root, spec, { ...opts, path: [], only: WORLD_SECTIONS });
    }
    if (!editable) this.container.append(h("p", { class: "hint" }, "Read-only: only the owner edits this world."));
    this.container.append(this.form);
    for (const d of this.form.querySelectorAll("details.group")) if (openGroups.has(d.dataset.group)) d.open = false;
    if (focused) {
      const again = [...this.form.querySelectorAll("[data-field]")].find((n) => n.dataset.field === focused);
      again?.focus({ preventScroll: true });
    }
  }

  clearErrors() {
    if (this.form) clearFieldErrors(this.form);
  }

  /** Shows 422 errors beside their inputs; returns the errors that have no input here. */
  showErrors(errors) {
    this.clearErrors();
    const rest = [];
    for (const err of errors) {
      const field = normalizeField(err.field);
      let rel = null;
      if (this.form && this.scope?.entity !== undefined) {
        const prefix = `entities.${this.scope.entity}`;
        if (field === prefix) rel = "name";
        else if (field.startsWith(`${prefix}.`)) rel = field.slice(prefix.length + 1);
      } else if (this.form && this.scope?.world) {
        if (WORLD_SECTIONS.some((s) => field === s || field.startsWith(`${s}.`))) rel = field;
      }
      if (rel === null || !showFieldError(this.form, rel, String(err.message ?? ""))) rest.push(err);
    }
    return rest;
  }
}
