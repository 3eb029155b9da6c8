// panel.js: the side panel of an open conversation (who the customer is,
// who answers them, labels, notes, what happened, their orders and
// tickets; for admins export and erase).  The chat view (web helper)
// calls renderPanel(container, conversation, ctx) with
// ctx = {api, session, refresh()}.  Every write goes through the API,
// which enforces the role again (403 forbidden_role); the panel only
// hides what the signed-in person's role cannot do.
import * as app from "./app.js";
import { add, busy, clear, download, el, ensureStyles, field, section,
  statusLine, uid, when, why } from "./manage-dom.js";

// The control to focus again once the panel is drawn anew after a change.
let refocus = null;
const FOCUS_NEXT = { "label-chip": "label" };

const ASSIGNEES = { bot: "The bot", person: "Handed to people (nobody yet)" };

// Who answers, in words: "bot", "person", "person:NAME" or "agent:NAME".
export function assigneeText(a, users) {
  if (!a) return "The bot";
  if (ASSIGNEES[a]) return ASSIGNEES[a];
  if (a.startsWith("person:")) {
    const name = a.slice(7);
    const u = (users || []).find((x) => x.name === name);
    return u && u.display_name ? u.display_name + " (" + name + ")" : name;
  }
  if (a.startsWith("agent:")) return "AI agent " + a.slice(6);
  return a;
}

function me(ctx) {
  const s = (ctx && ctx.session) ? (typeof ctx.session === "function" ? ctx.session() : ctx.session)
    : app.session();
  return (s && s.user) || {};
}

function can(role) {
  return app.can(role);
}

// The contact part of GET /conversations/{id}: convs adds a "contact"
// object; older answers carry phone/profile_name on the row itself.
function contactOf(c) {
  const k = Object.assign({}, c.contact || {});
  if (!k.wa_id) k.wa_id = k.phone || c.wa_id || c.phone || null;
  if (k.profile_name === undefined) k.profile_name = c.profile_name;
  if (k.opted_out === undefined) k.opted_out = c.opted_out;
  if (k.customer_email === undefined) k.customer_email = c.customer_email;
  return k;
}

export function renderPanel(container, conversation, ctx) {
  ensureStyles();
  ctx = ctx || {};
  const call = ctx.api || app.api;
  const id = conversation.id;
  const root = el("div", { class: "wa-panel", dataset: { panelFor: id } });
  clear(container);
  container.append(root);
  const state = { conv: conversation, users: [], labels: [] };

  async function reload() {
    const [conv, users, labels, notes, act] = await Promise.allSettled([
      call("GET", "/conversations/" + id),
      call("GET", "/users"),
      call("GET", "/labels"),
      call("GET", "/conversations/" + id + "/notes"),
      call("GET", "/conversations/" + id + "/activity"),
    ]);
    if (conv.status === "fulfilled") state.conv = conv.value;
    state.users = users.status === "fulfilled" ? list(users.value) : [];
    state.labels = labels.status === "fulfilled" ? list(labels.value) : [];
    draw(notes, act, conv.status === "rejected" ? conv.reason : null);
  }

  // After a change: the panel and the chat view show it at once.  The
  // chat view's refresh() may draw the panel anew (chat.js does): the
  // control that had focus gets it back by its data-fk (keyboard users
  // stay where they were).
  async function changed() {
    await reload();
    if (typeof ctx.refresh === "function") await ctx.refresh();
  }

  // One change from a control: the panel is aria-busy from the click
  // until it shows the result (also while the chat view draws it anew),
  // then the panel and the chat view are refreshed.
  function act(button, fn, st) {
    // Before the button is disabled (which takes its focus away).
    const f = document.activeElement;
    refocus = { id, key: f && root.contains(f) && f.dataset ? f.dataset.fk || null : null };
    root.setAttribute("aria-busy", "true");
    return busy(button, async () => {
      await fn();
      await changed();
    }, st).finally(() => root.removeAttribute("aria-busy"));
  }

  async function patch(body) {
    return call("PATCH", "/conversations/" + id, body);
  }

  function draw(notes, act, err) {
    const c = state.conv;
    const k = contactOf(c);
    clear(root);
    root.append(el("h2", { class: "wa-panel-title" }, "Details"));
    if (err) root.append(el("p", { class: "wa-error", role: "alert" }, why(err)));
    root.append(contactSection(c, k));
    root.append(assignSection(c));
    root.append(labelSection(c));
    root.append(notesSection(notes));
    root.append(ordersSection(c));
    root.append(activitySection(act));
    if (can("admin") && k.wa_id) root.append(privacySection(c, k));
    if (refocus && refocus.id === id && refocus.key) {
      let t = root.querySelector('[data-fk="' + refocus.key + '"]');
      if (!t || t.disabled) t = root.querySelector('[data-fk="' + (FOCUS_NEXT[refocus.key] || "assignee") + '"]');
      if (t) t.focus();
    }
  }

  function contactSection(c, k) {
    const s = section("Contact", "contact", "h3");
    const name = k.saved_name || k.profile_name || c.name || null;
    const dl = el("dl", { class: "wa-dl" });
    const row = (t, v) => dl.append(el("dt", {}, t), el("dd", { dir: "auto" }, v));
    row("Name", name || "no name");
    if (k.saved_name && k.profile_name && k.saved_name !== k.profile_name) {
      row("Profile name", k.profile_name);
    }
    row("WhatsApp id", k.wa_id || "none");
    row("Username", k.username || "none");
    row("Business number", c.number_label || c.phone_number_id || "");
    const out = Number(k.opted_out) === 1 || k.opted_out === true;
    row("Opted out", out ? "Yes" + (k.opted_out_at ? ", since " + when(k.opted_out_at) : "") : "No");
    if (out) dl.lastChild.classList.add("wa-warn");
    s.append(dl);

    const email = k.customer_email || c.customer_email || "";
    if (can("agent")) {
      const input = el("input", { type: "email", name: "customer_email",
        value: email, autocomplete: "off", maxlength: "254", dataset: { fk: "email" } });
      const st = statusLine();
      const save = el("button", { type: "submit", dataset: { fk: "email-save" } }, "Save email");
      const form = el("form", { class: "wa-inline", dataset: { form: "email" } },
        field("Customer email", input), save, st);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        act(save, async () => {
          const v = input.value.trim();
          await patch({ customer_email: v === "" ? null : v });
        }, st);
      });
      s.append(form);
    } else {
      s.append(el("p", {}, "Customer email: ", email || "none"));
    }
    return s;
  }

  function assignSection(c) {
    const s = section("Who answers", "assign", "h3");
    const a = c.assignee || "bot";
    s.append(el("p", { class: "wa-assignee", dataset: { assignee: a } },
      "Now: ", el("strong", {}, assigneeText(a, state.users)),
      c.assigned_until ? " until " + when(c.assigned_until) : ""));
    if (!can("agent")) return s;
    const st = statusLine();
    const set = (btn, value) => act(btn, async () => {
      await patch({ assignee: value });
    }, st);

    const sel = el("select", { name: "assignee", dataset: { fk: "assignee" } });
    sel.append(el("option", { value: "person", selected: a === "person" }, "Unassigned (people)"));
    sel.append(el("option", { value: "bot", selected: a === "bot" }, "The bot"));
    for (const u of state.users) {
      if (u.disabled || u.disabled_at) continue;
      if (u.role === "viewer") continue;
      const v = "person:" + u.name;
      sel.append(el("option", { value: v, selected: a === v },
        (u.display_name || u.name) + (u.display_name ? " (" + u.name + ")" : "")));
    }
    if (![...sel.options].some((o) => o.value === a)) {
      sel.append(el("option", { value: a, selected: true }, assigneeText(a, state.users)));
    }
    const assign = el("button", { type: "submit", dataset: { fk: "assign" } }, "Assign");
    const form = el("form", { class: "wa-inline", dataset: { form: "assign" } },
      field("Assign to", sel), assign);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      set(assign, sel.value);
    });
    s.append(form);

    const mine = "person:" + (me(ctx).name || "");
    const bar = el("div", { class: "wa-buttons", role: "group", "aria-label": "Hand-off" });
    const take = el("button", { type: "button", dataset: { action: "take", fk: "take" },
      disabled: a === mine }, "Take over");
    take.addEventListener("click", () => set(take, mine));
    const bot = el("button", { type: "button", dataset: { action: "bot", fk: "bot" },
      disabled: a === "bot" }, "Hand to bot");
    bot.addEventListener("click", () => set(bot, "bot"));
    const rel = el("button", { type: "button", dataset: { action: "release", fk: "release" },
      disabled: a === "person" }, "Release");
    rel.title = "Hand to people: nobody in particular answers yet";
    rel.addEventListener("click", () => set(rel, "person"));
    bar.append(take, bot, rel);
    s.append(bar, st);
    return s;
  }

  function labelSection(c) {
    const s = section("Labels", "labels", "h3");
    const have = Array.isArray(c.labels) ? c.labels.slice() : [];
    const st = statusLine();
    const chips = el("ul", { class: "wa-chips", "aria-label": "Labels on this chat" });
    const colors = new Map(state.labels.map((l) => [l.name, l.color]));
    for (const name of have) {
      const chip = el("li", { class: "wa-chip", dataset: { label: name } },
        dot(colors.get(name)),
        el("span", { dir: "auto" }, name));
      if (can("agent")) {
        const x = el("button", { type: "button", class: "wa-chip-x", dataset: { fk: "label-chip" },
          "aria-label": "Remove label " + name }, "\u00d7");
        x.addEventListener("click", () => act(x, async () => {
          await patch({ labels: have.filter((l) => l !== name) });
        }, st));
        chip.append(x);
      }
      chips.append(chip);
    }
    if (!have.length) chips.append(el("li", { class: "wa-empty" }, "No labels"));
    s.append(chips);
    if (can("agent")) {
      const dl = uid("wa-labels");
      const input = el("input", { type: "text", name: "label", list: dl,
        maxlength: "40", autocomplete: "off", dataset: { fk: "label" } });
      const addBtn = el("button", { type: "submit" }, "Add label");
      const form = el("form", { class: "wa-inline", dataset: { form: "label" } },
        field("New label", input), addBtn,
        el("datalist", { id: dl }, state.labels.map((l) => el("option", { value: l.name }))));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const v = input.value.trim();
        if (!v) return;
        if (have.includes(v)) {
          input.value = "";
          return;
        }
        act(addBtn, async () => {
          await patch({ labels: have.concat([v]) });
        }, st);
      });
      s.append(form);
    }
    s.append(st);
    return s;
  }

  function notesSection(res) {
    const s = section("Notes", "notes", "h3");
    const st = statusLine();
    if (res.status === "rejected") {
      s.append(el("p", { class: "wa-error" }, why(res.reason)));
    } else {
      const notes = list(res.value);
      const ul = el("ul", { class: "wa-notes" });
      const user = me(ctx);
      for (const n of notes) {
        const li = el("li", { class: "wa-note", dataset: { noteId: n.id } },
          el("p", { class: "wa-note-text", dir: "auto" }, n.text),
          el("p", { class: "wa-meta" }, n.author || "someone", ", ", when(n.created_at)));
        if (can("admin") || (can("agent") && n.author === user.name)) {
          const del = el("button", { type: "button", class: "wa-small",
            "aria-label": "Delete note by " + (n.author || "someone") + " from " + when(n.created_at) },
          "Delete");
          del.addEventListener("click", () => act(del, async () => {
            await call("DELETE", "/notes/" + n.id);
          }, st));
          li.append(del);
        }
        ul.append(li);
      }
      if (!notes.length) ul.append(el("li", { class: "wa-empty" }, "No notes yet"));
      s.append(ul);
    }
    if (can("agent")) {
      const ta = el("textarea", { name: "note", rows: "3", maxlength: "4096", dataset: { fk: "note" } });
      const addBtn = el("button", { type: "submit", dataset: { fk: "note" } }, "Add note");
      const form = el("form", { dataset: { form: "note" } }, field("New note", ta), addBtn);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const v = ta.value.trim();
        if (!v) return;
        act(addBtn, async () => {
          await call("POST", "/conversations/" + id + "/notes", { text: v });
        }, st);
      });
      s.append(form);
    }
    s.append(st);
    return s;
  }

  function ordersSection(c) {
    const s = section("Orders and tickets", "orders", "h3");
    const orders = Array.isArray(c.orders) ? c.orders : [];
    const tickets = Array.isArray(c.tickets) ? c.tickets : [];
    const ol = el("ul", { class: "wa-list", "aria-label": "Orders" });
    for (const o of orders) {
      ol.append(el("li", { dataset: { order: o.number } },
        el("strong", {}, "Order ", o.number), ": ", o.status || "",
        o.ordered_on ? ", ordered " + o.ordered_on : "",
        o.expected_delivery ? ", expected " + o.expected_delivery : ""));
    }
    if (!orders.length) ol.append(el("li", { class: "wa-empty" }, "No orders"));
    const tl = el("ul", { class: "wa-list", "aria-label": "Tickets" });
    for (const t of tickets) {
      tl.append(el("li", { dataset: { ticket: t.number } },
        el("strong", {}, "Ticket ", t.number), ": ", t.state || "",
        t.category ? ", " + t.category : "", t.created_at ? ", " + when(t.created_at) : "",
        t.description ? el("span", { class: "wa-meta", dir: "auto" }, " \u2014 ", t.description) : null));
    }
    if (!tickets.length) tl.append(el("li", { class: "wa-empty" }, "No tickets"));
    s.append(ol, tl);
    return s;
  }

  function activitySection(res) {
    const s = section("History", "activity", "h3");
    if (res.status === "rejected") {
      s.append(el("p", { class: "wa-error" }, why(res.reason)));
      return s;
    }
    const rows = list(res.value);
    const ol = el("ol", { class: "wa-activity" });
    for (const a of rows) {
      ol.append(el("li", { dataset: { kind: a.kind } },
        el("span", { class: "wa-meta" }, when(a.at), " "),
        el("strong", {}, a.actor || ""), " ", activityText(a)));
    }
    if (!rows.length) ol.append(el("li", { class: "wa-empty" }, "Nothing yet"));
    s.append(ol);
    return s;
  }

  function privacySection(c, k) {
    const s = section("Privacy (admins)", "privacy", "h3");
    const st = statusLine();
    const q = c.phone_number_id ? "?number=" + encodeURIComponent(c.phone_number_id) : "";
    const exp = el("button", { type: "button", dataset: { action: "export" } }, "Export contact (JSON)");
    exp.addEventListener("click", () => busy(exp, async () => {
      const data = await call("GET", "/contacts/" + encodeURIComponent(k.wa_id) + "/export" + q);
      download("contact-" + k.wa_id + ".json", data);
      add(st, "Exported.");
    }, st));
    const confirmInput = el("input", { type: "text", name: "confirm_wa_id",
      autocomplete: "off", inputmode: "numeric" });
    const erase = el("button", { type: "submit", class: "wa-danger", disabled: true,
      dataset: { action: "erase" } }, "Erase everything");
    confirmInput.addEventListener("input", () => {
      erase.disabled = confirmInput.value.trim() !== k.wa_id;
    });
    const form = el("form", { class: "wa-erase", dataset: { form: "erase" } },
      el("p", {}, "Erasing removes this customer's messages, media, notes and orders' links for good."),
      field("Type the phone number " + k.wa_id + " to confirm", confirmInput), erase);
    // Enter in the box answers even while the button is disabled (no
    // implicit submission then): it says what is missing.
    confirmInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (confirmInput.value.trim() !== k.wa_id) {
        clear(st);
        st.className = "wa-error";
        add(st, "Type the phone number exactly as shown to erase.");
        confirmInput.focus();
        return;
      }
      busy(erase, async () => {
        await call("DELETE", "/contacts/" + encodeURIComponent(k.wa_id) + q);
        clear(root);
        root.append(el("p", { role: "status", class: "wa-done" },
          "Everything about " + k.wa_id + " was erased."));
        app.toast("Everything about " + k.wa_id + " was erased.");
        // The chat is gone: back to the list (refreshing the chat view
        // would only ask for a conversation that no longer exists).
        location.hash = "#/inbox";
      }, st);
    });
    s.append(exp, form, st);
    return s;
  }

  // First paint from what the chat view already has, then the details.
  draw({ status: "fulfilled", value: { data: [] } }, { status: "fulfilled", value: { data: [] } }, null);
  root.setAttribute("aria-busy", "true");
  reload().finally(() => root.removeAttribute("aria-busy"));
  return root;
}

// A label's colour as a small SVG circle (a fill attribute, not an
// inline style: the CSP allows no style attributes).
function dot(color) {
  const ns = "http://www.w3.org/2000/svg";
  const s = document.createElementNS(ns, "svg");
  s.setAttribute("class", "wa-chip-dot");
  s.setAttribute("viewBox", "0 0 10 10");
  s.setAttribute("aria-hidden", "true");
  const c = document.createElementNS(ns, "circle");
  c.setAttribute("cx", "5");
  c.setAttribute("cy", "5");
  c.setAttribute("r", "5");
  c.setAttribute("fill", /^#[0-9a-fA-F]{6}$/.test(color || "") ? color : "#5f6b76");
  s.append(c);
  return s;
}

function list(v) {
  if (Array.isArray(v)) return v;
  if (v && Array.isArray(v.data)) return v.data;
  return [];
}

// One activity row's detail (JSON text or object) in words.
export function activityText(a) {
  let d = a.detail;
  if (typeof d === "string") {
    try {
      d = JSON.parse(d);
    } catch (e) {
      return a.kind + ": " + d;
    }
  }
  const k = a.kind;
  if (d && typeof d === "object") {
    // convs records {"from", "to"} for what changed.
    const to = "to" in d ? d.to : d.assignee;
    if (k === "assign" || k === "handoff" || k === "release") {
      return (k === "handoff" ? "handed to " : k === "release" ? "released to " : "assigned to ") +
        assigneeText(typeof to === "string" ? to : "");
    }
    if (k === "label" || k === "labels") {
      const was = Array.isArray(d.from) ? d.from : [];
      const now = Array.isArray(d.to) ? d.to : (Array.isArray(d.labels) ? d.labels : []);
      const added = d.added || now.filter((x) => !was.includes(x));
      const removed = d.removed || was.filter((x) => !now.includes(x));
      const parts = [];
      if (added.length) parts.push("added " + added.join(", "));
      if (removed.length) parts.push("removed " + removed.join(", "));
      return "labels: " + (parts.join("; ") || "changed");
    }
    if (k === "email") return to ? "set the customer email to " + to : "cleared the customer email";
    if (k === "note") return "wrote a note";
    if (k === "read") return "read the chat";
    const bits = Object.entries(d).map(([x, y]) =>
      x + " " + (typeof y === "object" ? JSON.stringify(y) : y));
    return k + (bits.length ? ": " + bits.join(", ") : "");
  }
  return k;
}
