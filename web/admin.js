// admin.js: the "admin" view (admins only): people (add with a role and
// see the generated password once, change role, disable/enable, reset the
// password, remove), API keys (create and see the key once, revoke,
// read-only, limited to numbers), numbers (health; edit label, display
// number, rate, active), quick replies (add, edit, delete), labels and
// event webhooks (their state, waiting and failed deliveries; pause and
// resume).
import * as app from "./app.js";
import { busy, clear, el, ensureStyles, field, section, statusLine, table,
  when, why } from "./manage-dom.js";
import { register } from "./ops.js";

const ROLES = ["viewer", "agent", "admin"];

function list(v) {
  if (Array.isArray(v)) return v;
  return (v && Array.isArray(v.data)) ? v.data : [];
}

// The one-time secret of an answer (generated password, new API key),
// whichever member carries it.
function secretOf(r, names) {
  for (const n of names) {
    if (r && typeof r[n] === "string") return r[n];
    if (r && r.user && typeof r.user[n] === "string") return r.user[n];
  }
  return null;
}

// A random password of 20 letters and digits (about 119 bits).
export function newPassword() {
  const abc = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const out = [];
  const buf = new Uint8Array(64);
  while (out.length < 20) {
    crypto.getRandomValues(buf);
    for (const b of buf) {
      if (b < 256 - (256 % abc.length) && out.length < 20) out.push(abc[b % abc.length]);
    }
  }
  return out.join("");
}

// A key's numbers: the API's JSON array (or its text) as labels.
function keyNumbers(v, numbers) {
  let a = v;
  if (typeof a === "string") {
    try {
      a = JSON.parse(a);
    } catch (e) {
      a = [];
    }
  }
  if (!Array.isArray(a) || !a.length) return "all";
  return a.map((id) => {
    const n = numbers.find((x) => x.phone_number_id === id);
    return n && n.label ? n.label : id;
  }).join(", ");
}

// Shows a secret once, selectable, with what it is for.
function once(box, title, secret) {
  clear(box);
  box.append(el("div", { class: "wa-once", role: "status" },
    el("p", {}, title, " It is shown only now; copy it."),
    el("output", { class: "wa-secret", dataset: { secret: "1" } }, secret)));
}

export function renderAdmin(container) {
  ensureStyles();
  clear(container);
  const main = el("div", { class: "wa-page", dataset: { page: "admin" } });
  main.append(el("h1", { tabindex: "-1" }, "Administration"));
  container.append(main);
  if (!app.can("admin")) {
    main.append(el("p", { class: "wa-error", role: "alert" }, "Only admins see the administration page."));
    return;
  }
  const names = { users: "People", keys: "API keys", numbers: "Numbers",
    "quick-replies": "Quick replies", labels: "Labels", hooks: "Event webhooks" };
  // In-page links move focus, not the router's hash (#/admin stays).
  const nav = el("nav", { class: "wa-subnav", "aria-label": "Administration sections" },
    Object.keys(names).map((n) => {
      const a = el("a", { href: "#/admin", dataset: { target: "admin-" + n } }, names[n]);
      a.addEventListener("click", (e) => {
        e.preventDefault();
        const t = document.getElementById("admin-" + n);
        if (t) {
          t.scrollIntoView();
          const h = t.querySelector("h2");
          if (h) h.focus();
        }
      });
      return a;
    }));
  const users = section("People", "users");
  const keys = section("API keys", "keys");
  const nums = section("Numbers", "numbers");
  const qr = section("Quick replies", "quick-replies");
  const labels = section("Labels", "labels");
  const hooks = section("Event webhooks", "hooks");
  hooks.id = "admin-hooks";
  labels.id = "admin-labels";
  users.id = "admin-users";
  keys.id = "admin-keys";
  nums.id = "admin-numbers";
  qr.id = "admin-quick-replies";
  for (const x of [users, keys, nums, qr, labels, hooks]) x.firstChild.setAttribute("tabindex", "-1");
  main.append(nav, users, keys, nums, qr, labels, hooks);
  drawUsers(users);
  drawKeys(keys);
  drawNumbers(nums);
  drawQuickReplies(qr);
  drawLabels(labels);
  drawHooks(hooks);
}

function reset(s) {
  const h = s.firstChild;
  clear(s);
  s.append(h);
  return s;
}

// The rows (list()) of each path, with s reset; null with the error in s.
async function load(s, ...paths) {
  let got;
  try {
    got = await Promise.all(paths.map((p) => app.api("GET", p).then(list)));
  } catch (e) {
    reset(s).append(el("p", { class: "wa-error" }, why(e)));
    return null;
  }
  reset(s);
  return got;
}

// ---------------------------------------------------------------- people

async function drawUsers(s) {
  const got = await load(s, "/users");
  if (!got) return;
  const [rows] = got;
  const st = statusLine();
  const secret = el("div", { class: "wa-once-box" });
  const redraw = () => drawUsers(s);
  const self = (app.session() || {}).user || {};

  const name = el("input", { type: "text", name: "name", required: true, maxlength: "64",
    pattern: "[a-z0-9._\\-]{1,64}", autocomplete: "off", spellcheck: "false" });
  const display = el("input", { type: "text", name: "display_name", maxlength: "100", autocomplete: "off" });
  const email = el("input", { type: "email", name: "email", maxlength: "254", autocomplete: "off" });
  const role = el("select", { name: "role" }, ROLES.map((r) => el("option", { value: r, selected: r === "agent" }, r)));
  const addBtn = el("button", { type: "submit" }, "Add person");
  const form = el("form", { class: "wa-grid-form", dataset: { form: "add-user" } },
    field("Sign-in name (a-z, 0-9, . _ -)", name), field("Display name", display),
    field("Email", email), field("Role", role), addBtn);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(addBtn, async () => {
      const body = { name: name.value.trim(), role: role.value };
      if (display.value.trim()) body.display_name = display.value.trim();
      if (email.value.trim()) body.email = email.value.trim();
      const r = await app.api("POST", "/users", body);
      await drawUsers(s);
      const pw = secretOf(r, ["password", "generated_password"]);
      const box = s.querySelector(".wa-once-box");
      if (pw && box) once(box, "Password for " + body.name + ":", pw);
    }, st);
  });

  const actions = (u) => {
    const cell = el("div", { class: "wa-buttons" });
    const sel = el("select", { name: "role", "aria-label": "Role of " + u.name },
      ROLES.map((r) => el("option", { value: r, selected: r === u.role }, r)));
    const setRole = el("button", { type: "button", dataset: { action: "role" } }, "Change role");
    setRole.addEventListener("click", () => busy(setRole, async () => {
      await app.api("PATCH", "/users/" + u.id, { role: sel.value });
      await redraw();
    }, st));
    const off = !!(u.disabled || u.disabled_at);
    const toggle = el("button", { type: "button", dataset: { action: off ? "enable" : "disable" },
      "aria-label": (off ? "Enable " : "Disable ") + u.name }, off ? "Enable" : "Disable");
    toggle.addEventListener("click", () => busy(toggle, async () => {
      await app.api("PATCH", "/users/" + u.id, { disabled: !off });
      await redraw();
    }, st));
    const pw = el("button", { type: "button", dataset: { action: "reset-password" },
      "aria-label": "Reset the password of " + u.name }, "Reset password");
    // The new password is made here (crypto.getRandomValues) and sent
    // once over the session; the server keeps only its scrypt hash.
    pw.addEventListener("click", () => {
      if (!window.confirm("Give " + u.name + " a new password? Their sessions end.")) return;
      busy(pw, async () => {
        const p = newPassword();
        await app.api("PATCH", "/users/" + u.id, { password: p });
        once(secret, "New password for " + u.name + ":", p);
      }, st);
    });
    const rm = el("button", { type: "button", class: "wa-danger", dataset: { action: "remove" },
      "aria-label": "Remove " + u.name, disabled: u.id === self.id }, "Remove");
    rm.addEventListener("click", () => {
      if (!window.confirm("Remove " + u.name + "? Their notes keep their name.")) return;
      busy(rm, async () => {
        await app.api("DELETE", "/users/" + u.id);
        await redraw();
      }, st);
    });
    cell.append(el("span", { class: "wa-inline" }, sel, setRole), toggle, pw, rm);
    return cell;
  };
  s.append(table("People who sign in", [
    { title: "Name", cell: (u) => u.name },
    { title: "Display name", cell: (u) => el("span", { dir: "auto" }, u.display_name || "") },
    { title: "Role", cell: (u) => u.role },
    { title: "Email", cell: (u) => u.email || "" },
    { title: "State", cell: (u) => (u.disabled || u.disabled_at) ? "disabled" : "active" },
    { title: "Last sign-in", cell: (u) => when(u.last_login_at) },
    { title: "Actions", cell: actions },
  ], rows, (u) => ({ dataset: { userId: u.id, userName: u.name } })));
  s.append(el("h3", {}, "Add a person"), form, secret, st);
}

// -------------------------------------------------------------- API keys

async function drawKeys(s) {
  const got = await load(s, "/api-keys", "/numbers");
  if (!got) return;
  const [rows, numbers] = got;
  const st = statusLine();
  const box = el("div", { class: "wa-once-box" });
  s.append(table("API keys", [
    { title: "Name", cell: (k) => k.name },
    { title: "Starts with", cell: (k) => k.key_prefix || k.prefix || "" },
    { title: "Access", cell: (k) => k.read_only ? "read only" : "read and write" },
    { title: "Numbers", cell: (k) => keyNumbers(k.numbers, numbers) },
    { title: "Created", cell: (k) => when(k.created_at) },
    { title: "Last used", cell: (k) => when(k.last_used_at) || "never" },
    { title: "Action", cell: (k) => {
      if (k.revoked_at) return "revoked " + when(k.revoked_at);
      const b = el("button", { type: "button", class: "wa-danger", dataset: { action: "revoke" },
        "aria-label": "Revoke key " + k.name }, "Revoke");
      b.addEventListener("click", () => {
        if (!window.confirm("Revoke the key " + k.name + "? Scripts using it stop working.")) return;
        busy(b, async () => {
          await app.api("DELETE", "/api-keys/" + k.id);
          await drawKeys(s);
        }, st);
      });
      return b;
    } },
  ], rows, (k) => ({ dataset: { keyId: k.id } })));
  const name = el("input", { type: "text", name: "name", required: true, maxlength: "64", autocomplete: "off" });
  const ro = el("input", { type: "checkbox", name: "read_only" });
  const picks = numbers.filter((n) => !n.removed_at).map((n) =>
    el("input", { type: "checkbox", name: "numbers", value: n.phone_number_id }));
  const fs = el("fieldset", { class: "wa-checks" }, el("legend", {}, "Only these numbers (none ticked: all)"),
    picks.map((p, i) => el("label", {}, p, " ", numbers.filter((n) => !n.removed_at)[i].label)));
  const create = el("button", { type: "submit" }, "Create key");
  const form = el("form", { class: "wa-grid-form", dataset: { form: "add-key" } },
    field("What it is for", name),
    el("label", { class: "wa-check" }, ro, " Read only (GET requests only)"), fs, create);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(create, async () => {
      const body = { name: name.value.trim(), read_only: ro.checked,
        numbers: picks.filter((p) => p.checked).map((p) => p.value) };
      const r = await app.api("POST", "/api-keys", body);
      await drawKeys(s);
      const k = secretOf(r, ["key", "api_key", "token"]);
      const b = s.querySelector(".wa-once-box");
      if (k && b) once(b, "Key " + body.name + ":", k);
    }, st);
  });
  s.append(el("h3", {}, "Create a key"), form, box, st);
}

// --------------------------------------------------------------- numbers

async function drawNumbers(s) {
  const got = await load(s, "/numbers");
  if (!got) return;
  const [rows] = got;
  const st = statusLine();
  for (const n of rows) {
    const active = !n.removed_at;
    const label = el("input", { type: "text", name: "label", value: n.label || "", maxlength: "32", required: true });
    const disp = el("input", { type: "text", name: "display_phone_number", value: n.display_phone_number || "", maxlength: "32" });
    const rate = el("input", { type: "number", name: "rate", min: "1", max: "1000",
      value: n.send_rate === null || n.send_rate === undefined ? "" : String(n.send_rate) });
    const act = el("input", { type: "checkbox", name: "active", checked: active });
    const save = el("button", { type: "submit" }, "Save");
    const health = [n.quality || "quality unknown", n.tier || "tier unknown", n.status || "status unknown",
      n.restricted ? "restricted" : null, n.sending && n.sending.paused ? "sending paused: " + n.sending.reason : null]
      .filter(Boolean).join(", ");
    const form = el("form", { class: "wa-number wa-grid-form", dataset: { form: "number", pnid: n.phone_number_id } },
      el("h3", {}, (n.label || n.phone_number_id) + " ", el("span", { class: "wa-meta" }, n.phone_number_id)),
      el("p", { class: n.quality === "RED" || n.restricted ? "wa-warn" : "wa-meta" }, health),
      field("Label", label), field("Display number", disp), field("Messages a second (empty: default)", rate),
      el("label", { class: "wa-check" }, act, " Active"), save);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(save, async () => {
        const body = {};
        if (label.value.trim() !== (n.label || "")) body.label = label.value.trim();
        if (disp.value.trim() !== (n.display_phone_number || "")) body.display_phone_number = disp.value.trim() || null;
        const r = rate.value === "" ? null : Number(rate.value);
        if (r !== (n.send_rate ?? null)) body.rate = r;
        if (act.checked !== active) body.active = act.checked;
        if (body.active === false && !window.confirm("Stop serving " + (n.label || n.phone_number_id) +
          "? Its queued messages fail (number_removed); its history stays.")) return;
        if (!Object.keys(body).length) {
          clear(st).append("Nothing changed.");
          return;
        }
        await app.api("PATCH", "/numbers/" + encodeURIComponent(n.phone_number_id), body);
        await drawNumbers(s);
        const st2 = s.querySelector(".wa-status");
        if (st2) st2.append("Saved " + (body.label || n.label) + ".");
      }, st);
    });
    s.append(form);
  }
  if (!rows.length) s.append(el("p", { class: "wa-empty" }, "No numbers yet (wactl numbers add)."));
  s.append(st);
}

// --------------------------------------------------------- quick replies

async function drawQuickReplies(s) {
  const got = await load(s, "/quick-replies", "/numbers");
  if (!got) return;
  const [rows, numbers] = got;
  const st = statusLine();
  const ul = el("ul", { class: "wa-qr" });
  for (const q of rows) {
    const sc = el("input", { type: "text", name: "shortcut", value: q.shortcut, maxlength: "32", required: true });
    const tx = el("textarea", { name: "text", rows: "2", maxlength: "4096", required: true });
    tx.value = q.text;
    const save = el("button", { type: "submit" }, "Save");
    const del = el("button", { type: "button", class: "wa-danger", "aria-label": "Delete quick reply /" + q.shortcut }, "Delete");
    const only = q.phone_number_id ? numbers.find((n) => n.phone_number_id === q.phone_number_id) : null;
    const f = el("form", { class: "wa-grid-form", dataset: { form: "quick-reply", qrId: q.id } },
      field("Shortcut /", sc), field("Text", tx),
      el("p", { class: "wa-meta" }, q.phone_number_id ? "Only for " + (only ? only.label : q.phone_number_id)
        : "For every number"), save, del);
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(save, async () => {
        await app.api("PATCH", "/quick-replies/" + q.id, { shortcut: sc.value.trim(), text: tx.value });
        await drawQuickReplies(s);
      }, st);
    });
    del.addEventListener("click", () => busy(del, async () => {
      await app.api("DELETE", "/quick-replies/" + q.id);
      await drawQuickReplies(s);
    }, st));
    ul.append(el("li", {}, f));
  }
  if (!rows.length) ul.append(el("li", { class: "wa-empty" }, "No quick replies yet."));
  const sc = el("input", { type: "text", name: "shortcut", maxlength: "32", required: true,
    pattern: "[a-z0-9_\\-]{1,32}", autocomplete: "off" });
  const tx = el("textarea", { name: "text", rows: "2", maxlength: "4096", required: true });
  const num = el("select", { name: "number" }, el("option", { value: "" }, "Every number"),
    numbers.filter((n) => !n.removed_at).map((n) => el("option", { value: n.phone_number_id }, n.label)));
  const addBtn = el("button", { type: "submit" }, "Add quick reply");
  const form = el("form", { class: "wa-grid-form", dataset: { form: "add-quick-reply" } },
    field("Shortcut / (a-z, 0-9, _ -)", sc), field("Text", tx), field("For", num), addBtn);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(addBtn, async () => {
      const body = { shortcut: sc.value.trim(), text: tx.value };
      if (num.value) body.number = num.value;
      await app.api("POST", "/quick-replies", body);
      await drawQuickReplies(s);
    }, st);
  });
  s.append(ul, el("h3", {}, "Add a quick reply"), form, st);
}

// ---------------------------------------------------------------- labels

// Labels are made on the fly from the panel; here they are renamed (on
// every conversation too), coloured and deleted (admins only).
async function drawLabels(s) {
  const got = await load(s, "/labels");
  if (!got) return;
  const [rows] = got;
  const st = statusLine();
  const ul = el("ul", { class: "wa-qr" });
  for (const l of rows) {
    const name = el("input", { type: "text", name: "name", value: l.name, maxlength: "40", required: true });
    const color = el("input", { type: "color", name: "color", value: l.color || "#5f6b76" });
    const save = el("button", { type: "submit" }, "Save");
    const del = el("button", { type: "button", class: "wa-danger", "aria-label": "Delete label " + l.name }, "Delete");
    const f = el("form", { class: "wa-grid-form", dataset: { form: "label", labelId: l.id } },
      field("Name", name), field("Colour", color), save, del);
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = {};
      if (name.value.trim() !== l.name) body.name = name.value.trim();
      if (color.value !== (l.color || "#5f6b76")) body.color = color.value;
      if (!Object.keys(body).length) {
        clear(st).append("Nothing changed.");
        return;
      }
      busy(save, async () => {
        await app.api("PATCH", "/labels/" + l.id, body);
        await drawLabels(s);
      }, st);
    });
    del.addEventListener("click", () => {
      if (!window.confirm("Delete the label " + l.name + "? It is taken off every chat.")) return;
      busy(del, async () => {
        await app.api("DELETE", "/labels/" + l.id);
        await drawLabels(s);
      }, st);
    });
    ul.append(el("li", {}, f));
  }
  if (!rows.length) ul.append(el("li", { class: "wa-empty" }, "No labels yet: add one to a chat."));
  s.append(ul, st);
}

// ------------------------------------------------------- event webhooks

// Issue 16: each hook's state (and why the worker disabled it), what
// waits and what failed in 24 h; pause or resume one.  Made with the API
// or `wactl hooks add` (the secret is shown there once).
async function drawHooks(s) {
  const got = await load(s, "/hooks");
  if (!got) return;
  const [rows] = got;
  const st = statusLine();
  s.append(table("Event webhooks", [
    { title: "URL", cell: (h) => h.url },
    { title: "Events", cell: (h) => (h.events || []).join(", ") },
    { title: "Number", cell: (h) => h.number || "all" },
    { title: "State", cell: (h) => h.state + (h.disabled_reason ? ": " + h.disabled_reason : "") },
    { title: "Waiting", cell: (h) => String(h.pending) },
    { title: "Failed (24 h)", cell: (h) => String(h.failed_24h) },
    { title: "Action", cell: (h) => {
      const to = h.state === "active" ? "paused" : "active";
      const b = el("button", { type: "button", dataset: { action: to === "paused" ? "pause" : "resume" },
        "aria-label": (to === "paused" ? "Pause" : "Resume") + " the hook to " + h.url },
      to === "paused" ? "Pause" : "Resume");
      b.addEventListener("click", () => busy(b, async () => {
        await app.api("PATCH", "/hooks/" + h.id, { state: to });
        await drawHooks(s);
      }, st));
      return b;
    } },
  ], rows, (h) => ({ dataset: { hookId: h.id, hookState: h.state } })));
  if (!rows.length) s.append(el("p", { class: "wa-empty" }, "No event webhooks: add one with wactl hooks add or POST /hooks."));
  s.append(st);
}

register("admin", renderAdmin);
