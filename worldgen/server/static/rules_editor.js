// The rules editor: spec.rules as pretty JSON, applied as a whole; errors listed below it.

import { clear, h } from "./dom.js";

export class RulesEditor {
  /**
   * @param {HTMLTextAreaElement} textarea  #rules-editor
   * @param {HTMLButtonElement} apply       #rules-apply
   * @param {HTMLElement} errors            #rules-errors (a <ul>)
   * @param {(rules: any[]) => Promise<void>} onApply  throws ApiError on 422
   */
  constructor(textarea, apply, errors, onApply) {
    this.textarea = textarea;
    this.apply = apply;
    this.errors = errors;
    this.onApply = onApply;
    this.loaded = "";
    this.editable = false;
    textarea.addEventListener("input", () => this.markDirty());
    apply.addEventListener("click", () => this.submit());
    textarea.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        this.submit();
      }
    });
  }

  get dirty() {
    return this.textarea.value !== this.loaded;
  }

  markDirty() {
    this.textarea.classList.toggle("dirty", this.dirty);
  }

  /** New rules from the room; kept out while the user has unsaved edits (unless forced). */
  load(rules, { force = false } = {}) {
    const text = rules === null ? "" : JSON.stringify(rules ?? [], null, 2);
    if (this.dirty && !force) {
      this.pendingServerText = text;
      return;
    }
    this.loaded = text;
    this.textarea.value = text;
    this.markDirty();
  }

  setEditable(editable) {
    this.editable = editable;
    this.textarea.readOnly = !editable;
    this.apply.disabled = !editable;
  }

  clearErrors() {
    clear(this.errors);
    this.errors.hidden = true;
  }

  showErrors(items) {
    clear(this.errors);
    for (const { field, message } of items) {
      this.errors.append(h("li", {},
        field ? h("span", { class: "err-field" }, `${field}:`) : null,
        field ? " " : null,
        h("span", { class: "err-message" }, message)));
    }
    this.errors.hidden = items.length === 0;
  }

  async submit() {
    if (!this.editable) return;
    this.clearErrors();
    let rules;
    try {
      rules = JSON.parse(this.textarea.value);
    } catch (err) {
      this.showErrors([{ field: syntaxPlace(this.textarea.value, err), message: err.message }]);
      return;
    }
    if (!Array.isArray(rules)) {
      this.showErrors([{ field: "rules", message: "the rules are a JSON list: [ {…}, … ]" }]);
      return;
    }
    this.apply.disabled = true;
    try {
      const text = this.textarea.value;
      await this.onApply(rules);
      if (this.textarea.value === text) this.load(rules, { force: true });
    } catch (err) {
      const list = err.errors?.length ? err.errors : [{ field: "", message: err.message }];
      this.showErrors(list.map((e) => ({ field: String(e.field ?? ""), message: String(e.message ?? "") })));
    } finally {
      this.apply.disabled = !this.editable;
    }
  }
}

/** "line 3, column 7" for a JSON.parse error (from its position, or the line V8 reports). */
export function syntaxPlace(text, err) {
  const msg = String(err?.message || "");
  let m = /line (\d+) column (\d+)/.exec(msg);
  if (m) return `line ${m[1]}, column ${m[2]}`;
  m = /position (\d+)/.exec(msg);
  let pos = m ? Number(m[1]) : null;
  if (pos === null && /end of (JSON|data) input|Unexpected end/i.test(msg)) pos = text.length;
  if (pos === null) return "JSON";
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}
