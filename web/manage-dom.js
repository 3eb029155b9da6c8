// manage-dom.js: small DOM helpers shared by the manage helper's modules
// (panel.js, ops.js, admin.js, charts.js).  Everything is built from
// elements and text nodes: data from the API (customers' names, notes,
// Meta's error sentences) never goes through innerHTML.

let seq = 0;

// A fresh id for pairing a <label for> with its control.
export function uid(prefix) {
  seq += 1;
  return (prefix || "wa-m") + "-" + seq;
}

// el(tag, attrs, ...children): attrs are attributes, except on* functions
// (event listeners), class, value/checked/disabled (properties) and
// dataset (data-*).  null, undefined and false attributes and children
// are left out; strings and numbers become text nodes.
export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  add(e, kids);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      e.addEventListener(k.slice(2), v);
    } else if (k === "class") {
      e.className = v;
    } else if (k === "dataset") {
      for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
    } else if (k === "value" || k === "checked" || k === "disabled" ||
               k === "selected") {
      e[k] = v;
    } else {
      e.setAttribute(k, v === true ? "" : String(v));
    }
  }
}

// Appends children (nested arrays flattened) as nodes or text.
export function add(e, kids) {
  for (const k of [kids].flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

// A labelled control: <div class="wa-field"><label for>text</label>control</div>.
export function field(text, control) {
  if (!control.id) control.id = uid("wa-f");
  return el("div", { class: "wa-field" },
    el("label", { for: control.id }, text), control);
}

// A time from the API (unix seconds, or milliseconds when large) as the
// person's local date and time; "" for none.
export function when(t) {
  if (t === null || t === undefined || t === "") return "";
  const n = Number(t);
  if (!Number.isFinite(n)) return String(t);
  const d = new Date(n > 1e11 ? n : n * 1000);
  return d.toLocaleString(undefined, { year: "numeric", month: "short",
    day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// A sentence for an error the api() promise rejected with.
export function why(err) {
  if (!err) return "Something went wrong.";
  const m = err.message || String(err);
  return err.code ? m + " (" + err.code + ")" : m;
}

// Runs fn() for a button: the button is disabled (aria-busy) meanwhile;
// an error is shown in `status` (a role=status/alert element) when given,
// else passed to onError.  Resolves to fn's value, or undefined on error.
export async function busy(button, fn, status, onError) {
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  if (status) clear(status);
  try {
    return await fn();
  } catch (err) {
    if (status) {
      status.className = "wa-error";
      add(status, why(err));
    } else if (onError) {
      onError(err);
    }
    return undefined;
  } finally {
    if (button && button.isConnected) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

// A live region for a section's errors and confirmations.
export function statusLine() {
  return el("p", { class: "wa-status", role: "status", "aria-live": "polite" });
}

// A section with a heading (h2 by default) and a body.
export function section(title, name, level) {
  const hid = uid("wa-h");
  const s = el("section", { class: "wa-section", "aria-labelledby": hid,
    dataset: { section: name } });
  s.append(el(level || "h2", { id: hid }, title));
  return s;
}

// A table from rows: cols = [{title, cell(row) -> node|text}].
export function table(caption, cols, rows, rowAttrs) {
  const t = el("table", { class: "wa-table" });
  if (caption) t.append(el("caption", {}, caption));
  t.append(el("thead", {}, el("tr", {},
    cols.map((c) => el("th", { scope: "col" }, c.title)))));
  const body = el("tbody");
  for (const r of rows) {
    body.append(el("tr", rowAttrs ? rowAttrs(r) : {},
      cols.map((c) => el("td", { "data-label": c.title }, c.cell(r)))));
  }
  t.append(body);
  return el("div", { class: "wa-table-wrap" }, t);
}

// Adds manage.css once (index.html belongs to the web helper; a <link>
// from a module is allowed by the CSP's style-src 'self').
export function ensureStyles() {
  if (document.querySelector("link[data-manage-css]")) return;
  const here = new URL("manage.css", import.meta.url).pathname;
  if (document.querySelector('link[href$="manage.css"]')) return;
  document.head.append(el("link", { rel: "stylesheet", href: here,
    dataset: { manageCss: "1" } }));
}

// Saves a JSON value as a file download (export).
export function download(name, value) {
  const blob = new Blob([JSON.stringify(value, null, 2) + "\n"],
    { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name, class: "wa-hidden" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
