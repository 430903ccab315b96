// Forms generated from the WorldSpec JSON Schema (GET /api/schema).
//
// Every input carries `data-field`: the dotted path of its value below the form's root, e.g.
// `mass`, `position.0`, `material.friction`, `shape.radius`, `physics.gravity.2`. A change calls
// onChange(path, value, label) with the path as an array; the caller builds the new spec.

import { h } from "./dom.js";

const AXES = ["x", "y", "z", "w"];

export class SchemaForms {
  constructor(rootSchema) {
    this.root = rootSchema || { $defs: {} };
  }

  /** The schema behind `$ref`s (sibling keywords such as `default` and `title` are kept). */
  resolve(schema) {
    let s = schema || {};
    for (let guard = 0; s && s.$ref && guard < 32; guard += 1) {
      const { $ref, ...rest } = s;
      const target = this.lookup($ref);
      s = { ...target, ...rest };
    }
    return s || {};
  }

  lookup(ref) {
    const m = /^#\/\$defs\/(.+)$/.exec(ref);
    if (!m) return {};
    return (this.root.$defs || {})[decodeURIComponent(m[1])] || {};
  }

  def(name) {
    return this.resolve({ $ref: `#/$defs/${name}` });
  }

  /** A fresh value for `schema`: its default, its const, or an object of its fields' defaults. */
  defaultsOf(schema) {
    const s = this.resolve(schema);
    if ("default" in s) return structuredClone(s.default);
    if ("const" in s) return s.const;
    const opt = this.optional(s);
    if (opt) return null;
    if (s.oneOf?.length) return this.defaultsOf(s.oneOf[0]);
    if (s.type === "object" || s.properties) {
      const out = {};
      for (const [key, sub] of Object.entries(s.properties || {})) {
        const r = this.resolve(sub);
        if ("default" in r || "const" in r || (s.required || []).includes(key) || r.properties) {
          out[key] = this.defaultsOf(r);
        }
      }
      return out;
    }
    if (s.type === "array") {
      if (s.prefixItems) return s.prefixItems.map((p) => this.defaultsOf(p));
      return [];
    }
    if (s.type === "number" || s.type === "integer") return Math.max(0, s.minimum ?? 0);
    if (s.type === "boolean") return false;
    if (s.type === "string") return s.enum ? s.enum[0] : "";
    return null;
  }

  /** For `anyOf: [X, {type: null}]`: X; otherwise null. */
  optional(s) {
    if (!Array.isArray(s.anyOf)) return null;
    const others = s.anyOf.filter((x) => x.type !== "null");
    if (others.length !== 1 || others.length === s.anyOf.length) return null;
    return this.resolve(others[0]);
  }

  /**
   * A form for an object `value` with schema `schema`.
   * opts: {disabled, onChange(path, value, label), only: [property names], path: [base path],
   *        open: bool (nested groups start open)}
   */
  objectForm(schema, value, opts) {
    const s = this.resolve(schema);
    const path = opts.path || [];
    const box = h("div", { class: "schema-form" });
    const keys = opts.only || Object.keys(s.properties || {});
    for (const key of keys) {
      const sub = (s.properties || {})[key];
      if (!sub) continue;
      box.append(this.field(sub, value?.[key], [...path, key], key, opts));
    }
    return box;
  }

  /** One labelled field (or a group for objects and unions). */
  field(schema, value, path, key, opts, fixedLabel = null) {
    const s = this.resolve(schema);
    const label = fixedLabel || s.title || humanize(key);
    const opt = this.optional(s);
    if (opt) return this.optionalField(s, opt, value, path, label, opts);
    if (Array.isArray(s.oneOf) && s.oneOf.length) return this.unionField(s, value, path, label, opts);
    if ((s.type === "object" || s.properties) && s.properties) {
      const group = h("details", { class: "group", open: true, dataset: { group: path.join(".") } },
        h("summary", { title: s.description || "" }, label));
      group.append(this.objectForm(s, value ?? {}, { ...opts, path, only: null }));
      return group;
    }
    if (s.type === "object" && s.patternProperties) return this.mapField(s, value ?? {}, path, label, opts);
    return row(label, s.description, this.input(s, value, path, opts, false), path);
  }

  /** The input(s) for a leaf or fixed-length array. */
  input(s, value, path, opts, optional) {
    const field = path.join(".");
    const disabled = !!opts.disabled;
    const change = (v) => opts.onChange(path, v);
    if ("const" in s) {
      return h("span", { class: "const", dataset: { field } }, JSON.stringify(s.const));
    }
    if (Array.isArray(s.enum)) {
      const select = h("select", { dataset: { field }, disabled });
      if (optional) select.append(h("option", { value: "" }, "(none)"));
      for (const v of s.enum) select.append(h("option", { value: String(v) }, String(v)));
      select.value = value === null || value === undefined ? "" : String(value);
      select.addEventListener("change", () => {
        const raw = select.value;
        if (raw === "" && optional) return change(null);
        const match = s.enum.find((v) => String(v) === raw);
        change(match === undefined ? raw : match);
      });
      return select;
    }
    if (s.type === "boolean") {
      const box = h("input", { type: "checkbox", dataset: { field }, disabled });
      box.checked = !!value;
      box.addEventListener("change", () => change(box.checked));
      return box;
    }
    if (s.type === "number" || s.type === "integer") return this.numberInput(s, value, path, opts, optional);
    if (s.type === "string") {
      const long = (s.maxLength || 0) > 200;
      const input = long
        ? h("textarea", { rows: 2, dataset: { field }, disabled, spellcheck: "false" })
        : h("input", { type: "text", dataset: { field }, disabled, spellcheck: "false" });
      if (s.maxLength) input.maxLength = s.maxLength;
      if (optional) input.placeholder = "none";
      input.value = value === null || value === undefined ? "" : String(value);
      input.addEventListener("change", () => change(optional && input.value === "" ? null : input.value));
      return input;
    }
    if (s.type === "array" && Array.isArray(s.prefixItems)) return this.vectorInput(s, value, path, opts);
    if (s.type === "array" && this.resolve(s.items).type === "string") {
      const input = h("input", { type: "text", dataset: { field }, disabled, placeholder: "comma, separated",
        spellcheck: "false" });
      input.value = Array.isArray(value) ? value.join(", ") : "";
      input.addEventListener("change", () => {
        change(input.value.split(",").map((t) => t.trim()).filter(Boolean));
      });
      return input;
    }
    return this.jsonInput(value, path, opts);
  }

  numberInput(s, value, path, opts, optional) {
    const field = path.join(".");
    const input = h("input", { type: "number", dataset: { field }, disabled: !!opts.disabled,
      step: s.type === "integer" ? "1" : "any" });
    if (typeof s.minimum === "number") input.min = String(s.minimum);
    if (typeof s.maximum === "number") input.max = String(s.maximum);
    if (optional) input.placeholder = "none";
    input.value = typeof value === "number" ? String(value) : "";
    input.addEventListener("change", () => {
      const raw = input.value.trim();
      if (raw === "") {
        if (optional) return opts.onChange(path, null);
        return opts.onLocalError?.(field, "a number is needed");
      }
      const n = Number(raw);
      if (!Number.isFinite(n)) return opts.onLocalError?.(field, "not a number");
      if (s.type === "integer" && !Number.isInteger(n)) return opts.onLocalError?.(field, "a whole number is needed");
      opts.onChange(path, n);
    });
    return input;
  }

  /** Fixed-length arrays (vec3, ranges, bounds): one input per item; colours get a picker too. */
  vectorInput(s, value, path, opts) {
    const items = s.prefixItems.map((p) => this.resolve(p));
    const arr = Array.isArray(value) ? value : [];
    const nested = items.some((it) => it.type === "array");
    const box = h("div", { class: nested ? "vec nested" : "vec" });
    items.forEach((item, i) => {
      const sub = [...path, String(i)];
      const node = item.type === "array" && Array.isArray(item.prefixItems)
        ? this.vectorInput(item, arr[i], sub, opts)
        : this.input(item, arr[i], sub, opts, false);
      if (!nested && items.length <= 4) node.setAttribute?.("aria-label", `${path.at(-1)} ${AXES[i]}`);
      if (!nested && items.length <= 4 && node.placeholder !== undefined) node.title = AXES[i];
      box.append(node);
    });
    if (isColour(path, items)) {
      const picker = h("input", { type: "color", class: "swatch", dataset: { field: path.join(".") },
        disabled: !!opts.disabled, title: "pick a colour" });
      picker.value = toHex(arr);
      picker.addEventListener("change", () => opts.onChange(path, fromHex(picker.value)));
      box.append(picker);
    }
    return box;
  }

  jsonInput(value, path, opts) {
    const field = path.join(".");
    const input = h("textarea", { class: "json", rows: 2, dataset: { field }, disabled: !!opts.disabled,
      spellcheck: "false" });
    input.value = JSON.stringify(value ?? null);
    input.addEventListener("change", () => {
      let parsed;
      try {
        parsed = JSON.parse(input.value);
      } catch (err) {
        return opts.onLocalError?.(field, `not JSON: ${err.message}`);
      }
      opts.onChange(path, parsed);
    });
    return input;
  }

  /** `anyOf [X, null]`: leaves take an empty value as null; objects get a "set" checkbox. */
  optionalField(s, inner, value, path, label, opts) {
    const merged = { ...inner, title: s.title || inner.title, description: s.description || inner.description };
    const leaf = !(inner.properties || inner.oneOf || (inner.type === "array" && !inner.prefixItems));
    if (leaf && !(inner.type === "array")) {
      return row(label, merged.description, this.input(merged, value, path, opts, true), path);
    }
    const field = path.join(".");
    const isSet = value !== null && value !== undefined;
    const toggle = h("input", { type: "checkbox", class: "opt-toggle", dataset: { field: `${field}.$set` },
      disabled: !!opts.disabled, title: "set / none" });
    toggle.checked = isSet;
    toggle.addEventListener("change", () => opts.onChange(path, toggle.checked ? this.defaultsOf(inner) : null));
    const body = h("div", { class: "opt-body" }, toggle);
    if (isSet) body.append(inner.properties || inner.oneOf
      ? this.field(inner, value, path, path.at(-1), opts)
      : this.input(inner, value, path, opts, false));
    else body.append(h("span", { class: "muted" }, "none"));
    return row(label, merged.description, body, path);
  }

  /** A discriminated union (the entity's `shape`): a select of its variants, then the chosen one's fields. */
  unionField(s, value, path, label, opts) {
    const tag = s.discriminator?.propertyName || "type";
    const variants = s.oneOf.map((o) => this.resolve(o));
    const names = variants.map((v, i) => {
      const p = this.resolve(v.properties?.[tag] || {});
      return String(p.const ?? p.default ?? v.title ?? i);
    });
    let index = names.indexOf(String(value?.[tag]));
    if (index < 0) index = 0;
    const field = [...path, tag].join(".");
    const select = h("select", { dataset: { field }, disabled: !!opts.disabled });
    names.forEach((n) => select.append(h("option", { value: n }, n)));
    select.value = names[index];
    select.addEventListener("change", () => {
      const i = names.indexOf(select.value);
      const fresh = this.defaultsOf(variants[i]);
      fresh[tag] = names[i];
      opts.onChange(path, fresh, `${field} = ${JSON.stringify(names[i])}`);
    });
    const group = h("details", { class: "group", open: true, dataset: { group: path.join(".") } },
      h("summary", { title: s.description || "" }, label));
    group.append(row(humanize(tag), "", select, [...path, tag]));
    const chosen = variants[index];
    if (chosen.description) group.append(h("p", { class: "hint" }, chosen.description));
    const rest = Object.keys(chosen.properties || {}).filter((k) => k !== tag);
    if (rest.length) group.append(this.objectForm(chosen, value ?? {}, { ...opts, path, only: rest }));
    return group;
  }

  /** An object keyed by names (the world's `variables`): one group per key, add and remove. */
  mapField(s, value, path, label, opts) {
    const valueSchema = Object.values(s.patternProperties)[0];
    const pattern = new RegExp(Object.keys(s.patternProperties)[0]);
    const group = h("details", { class: "group", open: true, dataset: { group: path.join(".") } },
      h("summary", { title: s.description || "" }, label));
    const field = path.join(".");
    for (const [key, v] of Object.entries(value)) {
      const sub = this.field(valueSchema, v, [...path, key], key, opts, key);
      if (!opts.disabled && sub.tagName === "DETAILS") {
        const remove = h("button", { type: "button", class: "icon remove", title: `remove ${key}`,
          dataset: { remove: `${field}.${key}` } }, "×");
        remove.addEventListener("click", (e) => {
          e.preventDefault();
          const next = { ...value };
          delete next[key];
          opts.onChange(path, next, `${field}: remove ${key}`);
        });
        sub.querySelector("summary").append(remove);
      }
      group.append(sub);
    }
    if (!Object.keys(value).length) group.append(h("p", { class: "hint" }, "none yet"));
    if (!opts.disabled) {
      const name = h("input", { type: "text", placeholder: "new name", dataset: { field: `${field}.$new` },
        spellcheck: "false" });
      const add = h("button", { type: "button" }, "Add");
      const addIt = () => {
        const key = name.value.trim();
        if (!pattern.test(key)) return opts.onLocalError?.(`${field}.$new`, "a letter, then letters, digits or _");
        if (key in value) return opts.onLocalError?.(`${field}.$new`, `${key} exists`);
        opts.onChange(path, { ...value, [key]: this.defaultsOf(valueSchema) }, `${field}: add ${key}`);
      };
      add.addEventListener("click", addIt);
      name.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          addIt();
        }
      });
      group.append(row("Add", "", h("div", { class: "add-row" }, name, add), [...path, "$new"]));
    }
    return group;
  }
}

function row(label, description, control, path) {
  return h("div", { class: "field", dataset: { path: path.join(".") } },
    h("label", { class: "field-label", title: description || "" }, label),
    h("div", { class: "field-input" }, control));
}

function humanize(key) {
  const s = String(key).replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function isColour(path, items) {
  const key = String(path.at(-1) || "");
  return /colou?r|background/i.test(key) && items.length === 3
    && items.every((it) => it.type === "number" && it.maximum === 1 && (it.minimum ?? 0) === 0);
}

function toHex(rgb) {
  const c = [0, 1, 2].map((i) => Math.round(Math.min(Math.max(Number(rgb?.[i]) || 0, 0), 1) * 255));
  return `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

function fromHex(hex) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex) || [0, "0", "0", "0"];
  return [1, 2, 3].map((i) => Math.round((parseInt(m[i], 16) / 255) * 1000) / 1000);
}

// ------------------------------------------------------------ errors beside the inputs

/** "entities[3].mass", "entities.3 ('puck').mass", "spec.physics.gravity[2]" → "entities.3.mass" … */
export function normalizeField(field) {
  let f = String(field || "");
  f = f.replace(/\s*\('(?:[^'\\]|\\.)*'\)/g, "").replace(/\s*\("(?:[^"\\]|\\.)*"\)/g, "");
  f = f.replace(/\[(\d+)\]/g, ".$1").replace(/\[['"]?([^\]'"]+)['"]?\]/g, ".$1");
  f = f.replace(/^\.+/, "").replace(/\.{2,}/g, ".");
  if (f.startsWith("spec.")) f = f.slice(5);
  else if (f === "spec") f = "";
  return f;
}

/** Removes the inline errors of a form. */
export function clearFieldErrors(container) {
  for (const node of container.querySelectorAll(".field-error")) node.remove();
  for (const node of container.querySelectorAll(".invalid")) node.classList.remove("invalid");
}

/** The input for a dotted path: exact, else the first one inside it, else the nearest enclosing one. */
export function findInput(container, path) {
  const inputs = [...container.querySelectorAll("[data-field]")];
  const exact = inputs.find((n) => n.dataset.field === path);
  if (exact) return exact;
  const inside = inputs.find((n) => n.dataset.field.startsWith(`${path}.`));
  if (inside) return inside;
  let best = null;
  for (const n of inputs) {
    const f = n.dataset.field;
    if (path.startsWith(`${f}.`) && (!best || f.length > best.dataset.field.length)) best = n;
  }
  return best;
}

/** Shows one message beside the input for `path`; false if the form has no such input. */
export function showFieldError(container, path, message) {
  const input = findInput(container, path);
  if (!input) return false;
  input.classList.add("invalid");
  const holder = input.closest(".field") || input.parentElement;
  const note = h("div", { class: "field-error", role: "alert", dataset: { for: path } }, message);
  holder.append(note);
  return true;
}
