// ops.js: the operations pages.  "ops" (admins): health and status as
// /health and /status show them, failed sends with Retry, failed journal
// entries with Replay.  "stats": statistics as plain SVG charts (messages
// in and out per day, first-reply time p50/p95, menu options chosen most,
// failures by Meta's code) from GET /stats and GET /stats/daily.
import * as app from "./app.js";
import { barChart, hbarChart } from "./charts.js";
import { busy, clear, el, ensureStyles, field, section, statusLine, table,
  when, why } from "./manage-dom.js";

// route() is app.js's; app.js imports this module, so while the module
// graph is still evaluating its bindings may not be ready: register on
// the next microtask then (before any view is shown).
export function register(name, render) {
  try {
    app.route(name, render);
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    queueMicrotask(() => app.route(name, render));
  }
}

function page(container, title, name) {
  ensureStyles();
  clear(container);
  const main = el("div", { class: "wa-page", dataset: { page: name } });
  main.append(el("h1", { tabindex: "-1" }, title));
  container.append(main);
  return main;
}

function refusal(main, text) {
  main.append(el("p", { class: "wa-error", role: "alert" }, text));
}

// ------------------------------------------------------------------ ops

export function renderOps(container) {
  const main = page(container, "Operations", "ops");
  if (!app.can("admin")) {
    refusal(main, "Only admins see the operations page.");
    return;
  }
  const again = el("button", { type: "button", dataset: { action: "reload" } }, "Refresh");
  main.append(el("div", { class: "wa-buttons" }, again));
  const health = section("Health and status", "health");
  const sends = section("Failed sends", "failed-sends");
  const journal = section("Failed webhook entries", "failed-events");
  main.append(health, sends, journal);
  const load = () => Promise.all([loadHealth(health), loadSends(sends), loadJournal(journal)]);
  again.addEventListener("click", () => busy(again, load));
  load();
}

function body(s) {
  const h = s.firstChild;
  clear(s);
  s.append(h);
  return s;
}

async function loadHealth(s) {
  const [hr, sr] = await Promise.allSettled([app.api("GET", "/health"), app.api("GET", "/status")]);
  body(s);
  const dl = el("dl", { class: "wa-dl wa-health" });
  const row = (t, v, cls) => dl.append(el("dt", {}, t), el("dd", { class: cls || null }, v));
  if (hr.status === "fulfilled") {
    const h = hr.value;
    row("Status", h.status + (h.reasons && h.reasons.length ? ": " + h.reasons.join(", ") : ""),
      h.status === "ok" ? "wa-ok" : "wa-warn");
    row("Database", h.database);
    const age = h.worker ? h.worker.heartbeat_age_s : null;
    row("Worker heartbeat", age === null || age === undefined ? "never" : age + " s ago",
      age === null || age > 30 ? "wa-warn" : "wa-ok");
    row("Journal backlog", h.journal_backlog);
    if (h.sending) {
      row("Outbox queued", h.sending.queued + (h.sending.queued ? ", oldest " +
        h.sending.oldest_age_s + " s" : ""));
    }
    if (h.media) row("Media downloads", h.media.downloads + (h.media.reason ? ": " + h.media.reason : ""));
  } else {
    row("Health", why(hr.reason), "wa-warn");
  }
  if (sr.status === "fulfilled") {
    const st = sr.value;
    row("Outbox failed", st.outbox_failed, st.outbox_failed ? "wa-warn" : null);
    row("Outbox sending", st.outbox_sending);
    row("Media pending", st.media_pending);
    row("Agent calls pending", st.agent_pending);
    row("Last webhook", st.last_webhook_at_ms ? when(st.last_webhook_at_ms) : "none");
    row("Sending paused", st.sending_paused || "no", st.sending_paused ? "wa-warn" : null);
    row("Version", st.version + " (schema " + st.schema_version + ", SQLite " + st.sqlite_version + ")");
    if (st.unknown_numbers && st.unknown_numbers.length) {
      row("Unknown numbers writing", st.unknown_numbers.join(", "), "wa-warn");
    }
    s.append(dl);
    const nums = st.numbers || [];
    s.append(table("Numbers", [
      { title: "Label", cell: (n) => n.label },
      { title: "Number", cell: (n) => n.display_phone_number || n.phone_number_id },
      { title: "Quality", cell: (n) => n.quality || "unknown" },
      { title: "Tier", cell: (n) => (n.tier || "unknown") + (n.tier_limit ? " (" + n.tier_used + "/" + n.tier_limit + " today)" : "") },
      { title: "Status", cell: (n) => (n.status || "unknown") + (n.restricted ? ", restricted: " + (n.account_state || "") : "") },
      { title: "Sending", cell: (n) => n.sending && n.sending.paused
        ? "paused: " + n.sending.reason + (n.sending.resume_at ? " until " + when(n.sending.resume_at) : "")
        : "running" },
    ], nums, (n) => ({ dataset: { number: n.phone_number_id } })));
  } else {
    s.append(dl);
    s.append(el("p", { class: "wa-error" }, why(sr.reason)));
  }
}

// The rows get() gives and a status line, with s emptied; null when
// get() failed or gave no row (s says which, with empty the latter).
async function rowsIn(s, get, empty) {
  let rows;
  try {
    rows = await get();
  } catch (e) {
    body(s).append(el("p", { class: "wa-error" }, why(e)));
    return null;
  }
  body(s);
  const st = statusLine();
  if (!rows.length) {
    s.append(el("p", { class: "wa-empty" }, empty), st);
    return null;
  }
  return { rows, st };
}

async function loadSends(s) {
  const got = await rowsIn(s, async () =>
    (await app.api("GET", "/outbox?state=failed&limit=50")).data || [], "No failed sends.");
  if (!got) return;
  const { rows, st } = got;
  s.append(table("Failed sends, newest first", [
    { title: "Id", cell: (r) => String(r.id) },
    { title: "To", cell: (r) => r.recipient || "" },
    { title: "From", cell: (r) => r.number_label || r.phone_number_id },
    { title: "Kind", cell: (r) => r.kind },
    { title: "Queued", cell: (r) => when(r.created_at) },
    { title: "Meta said", cell: (r) => el("span", { dir: "auto" },
      (r.error_code !== null && r.error_code !== undefined ? r.error_code + " " : "") +
      (r.error_title || "") + (r.error_details ? ": " + r.error_details : "")) },
    { title: "Action", cell: (r) => {
      const b = el("button", { type: "button", dataset: { action: "retry", outboxId: r.id },
        "aria-label": "Retry send " + r.id + " to " + (r.recipient || "") }, "Retry");
      b.addEventListener("click", () => busy(b, async () => {
        await app.api("POST", "/outbox/" + r.id + "/retry");
        const tr = b.closest("tr");
        const cell = b.parentNode;
        clear(cell).append("queued again");
        if (tr) tr.classList.add("wa-done");
        clear(st).append("Send " + r.id + " is queued again.");
      }, st));
      return b;
    } },
  ], rows, (r) => ({ dataset: { outboxId: r.id } })), st);
}

async function loadJournal(s) {
  const got = await rowsIn(s, async () => {
    const [f, p] = await Promise.all([
      app.api("GET", "/webhook-events?result=failed&limit=50"),
      app.api("GET", "/webhook-events?result=partial&limit=50"),
    ]);
    return (f.data || []).concat(p.data || []).sort((a, b) => b.id - a.id);
  }, "No failed or partly applied entries.");
  if (!got) return;
  const { rows, st } = got;
  s.append(table("Failed and partly applied entries, newest first", [
    { title: "Id", cell: (r) => String(r.id) },
    { title: "Received", cell: (r) => when(r.received_at) },
    { title: "Result", cell: (r) => r.state },
    { title: "Items", cell: (r) => (r.items_applied ?? 0) + " applied, " + (r.items_failed ?? 0) +
      " failed of " + (r.items_total ?? "?") },
    { title: "Error", cell: (r) => el("span", { dir: "auto" }, r.error || "") },
    { title: "Action", cell: (r) => {
      const b = el("button", { type: "button", dataset: { action: "replay", eventId: r.id },
        "aria-label": "Replay webhook entry " + r.id }, "Replay");
      b.addEventListener("click", () => busy(b, async () => {
        await app.api("POST", "/webhook-events/" + r.id + "/replay");
        clear(b.parentNode).append("replaying");
        clear(st).append("Entry " + r.id + " goes back to the worker.");
      }, st));
      return b;
    } },
  ], rows, (r) => ({ dataset: { eventId: r.id } })), st);
}

// ---------------------------------------------------------------- stats

const DAY = 86400;

function ymd(t) {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

// Every UTC day from since to until (exclusive), as YYYY-MM-DD.
export function days(since, until) {
  const out = [];
  for (let t = Math.floor(since / DAY) * DAY; t < until; t += DAY) out.push(ymd(t));
  return out;
}

export function renderStats(container, params) {
  const main = page(container, "Statistics", "stats");
  const period = el("select", { name: "days" },
    [7, 14, 30, 90].map((n) => el("option", { value: String(n), selected: n === 14 }, "Last " + n + " days")));
  const number = el("select", { name: "number" }, el("option", { value: "" }, "All numbers"));
  const show = el("button", { type: "submit" }, "Show");
  const form = el("form", { class: "wa-inline wa-filters", dataset: { form: "stats" } },
    field("Period", period), field("Number", number), show);
  const st = statusLine();
  const out = el("div", { class: "wa-charts" });
  main.append(form, st, out);
  app.api("GET", "/numbers").then((r) => {
    for (const n of r.data || []) {
      if (n.removed_at) continue;
      number.append(el("option", { value: n.phone_number_id }, n.label +
        (n.display_phone_number ? " (" + n.display_phone_number + ")" : "")));
    }
  }, () => {});
  const load = () => busy(show, async () => {
    const until = Math.floor(Date.now() / 1000 / DAY) * DAY + DAY;
    const since = until - Number(period.value) * DAY;
    let q = "?since=" + since + "&until=" + until;
    if (number.value) q += "&number=" + encodeURIComponent(number.value);
    const [stats, daily] = await Promise.allSettled([
      app.api("GET", "/stats" + q), app.api("GET", "/stats/daily" + q)]);
    if (stats.status === "rejected") throw stats.reason;
    drawStats(out, stats.value, daily.status === "fulfilled" ? daily.value : null, since, until);
  }, st);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  void params;
  load();
}

// The per-day rows of /stats/daily, whatever the list is called.
function dailyRows(d) {
  if (!d) return [];
  for (const k of ["days", "data", "daily"]) if (Array.isArray(d[k])) return d[k];
  return Array.isArray(d) ? d : [];
}

function num(v) {
  return typeof v === "number" ? v : (v === null || v === undefined ? null : Number(v));
}

export function drawStats(out, s, daily, since, until) {
  clear(out);
  const cats = days(since, until);
  const inn = new Map(), outn = new Map();
  for (const m of s.messages || []) {
    const map = m.direction === "in" ? inn : outn;
    map.set(m.day, (map.get(m.day) || 0) + m.messages);
  }
  out.append(el("p", { class: "wa-summary" }, s.unique_contacts + " customers wrote or were written to, " +
    s.new_contacts + " of them new." + (s.capped ? " (Period capped at 366 days.)" : "")));
  out.append(barChart({
    name: "messages", title: "Messages in and out per day",
    categories: cats.map((d) => d.slice(5)),
    series: [
      { name: "in", cls: "wa-s1", values: cats.map((d) => inn.get(d) || 0) },
      { name: "out", cls: "wa-s2", values: cats.map((d) => outn.get(d) || 0) },
    ],
  }));

  const rows = dailyRows(daily);
  const fr = s.first_reply_seconds || {};
  // /stats/daily (media helper): one row a day, first_reply_seconds
  // {p50, p95, answered, unanswered} each.
  if (rows.length && rows.some((r) => r.first_reply_seconds && "p50" in r.first_reply_seconds)) {
    const by = new Map(rows.map((r) => [r.day, r]));
    const p = (r, k) => (r && r.first_reply_seconds ? num(r.first_reply_seconds[k]) : null);
    out.append(barChart({
      name: "first-reply", title: "First reply time per day (seconds)", unit: "s",
      categories: cats.map((d) => d.slice(5)),
      series: [
        { name: "p50", cls: "wa-s1", values: cats.map((d) => p(by.get(d), "p50")) },
        { name: "p95", cls: "wa-s3", values: cats.map((d) => p(by.get(d), "p95")) },
      ],
    }));
  } else {
    out.append(hbarChart({
      name: "first-reply", title: "First reply time over the period", unit: "s",
      valueTitle: "seconds", cls: "wa-s3",
      items: [{ label: "p50 (half answered within)", value: num(fr.p50) },
        { label: "p95 (95% answered within)", value: num(fr.p95) }],
    }));
  }
  out.lastChild.append(el("p", { class: "wa-meta" }, (fr.answered || 0) + (fr.answered === 1 ? " customer message" : " customer messages") + " answered, " +
    (fr.unanswered || 0) + " not yet."));
  out.append(hbarChart({
    name: "menu", title: "Menu options chosen most", valueTitle: "chosen",
    items: (s.menu_options || []).map((m) => ({ label: m.node + ": " + m.option, value: m.chosen })),
  }));
  out.append(hbarChart({
    name: "failures", title: "Failed sends by Meta's code", cls: "wa-s3", valueTitle: "failures",
    items: (s.failures || []).map((f) => ({ label: f.code + " " + (f.title || ""), value: f.failures })),
  }));
}

register("ops", renderOps);
register("stats", renderStats);
