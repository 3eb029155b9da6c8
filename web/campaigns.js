// campaigns.js: the "campaigns" view (admins only, issue 16).  #/campaigns
// lists the campaigns (number, template, state, a progress bar of what
// is no longer queued, the counts) above the "New campaign" form: name,
// number, an approved template, the recipients from a CSV file (read
// here with FileReader and sent as the "csv" string) or a segment (a
// label, or who wrote within N days, with the parameters), an optional
// start time; Preview asks POST /campaigns with dry_run (nothing is
// written) and shows the counts and the first message, or the CSV's
// wrong lines; Create makes it.  #/campaigns/ID is one campaign: counts,
// progress, why it waits, Pause/Resume/Cancel, the failed recipients and
// the CSV report; it reads itself again every few seconds while it is
// scheduled or running.  Built from elements and text nodes only
// (manage-dom.js); the progress bar is a <progress> element (the CSP
// allows no style attribute).
import * as app from "./app.js";
import { add, busy, clear, el, ensureStyles, field, section, statusLine, table,
  when, why } from "./manage-dom.js";
import { register } from "./ops.js";

const REFRESH_MS = 3000;
const COUNTS = [["queued", "Queued"], ["sent", "Sent"], ["delivered", "Delivered"],
  ["read", "Read"], ["failed", "Failed"], ["skipped", "Skipped"]];
const LIVE = ["scheduled", "running"];

function list(v) {
  return (v && Array.isArray(v.data)) ? v.data : [];
}

function num(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

// What is no longer waiting: every recipient but the queued ones.
function progress(c) {
  const k = c.counts || {};
  const total = num(k.total);
  const done = Math.max(0, total - num(k.queued));
  const bar = el("progress", { class: "wa-progress", max: String(Math.max(total, 1)),
    value: String(total ? done : 0), "aria-label": "Progress of " + c.name });
  return el("span", { class: "wa-progress-box" }, bar,
    el("span", { class: "wa-meta wa-progress-text" }, done + " of " + total + " done"));
}

function countsText(c) {
  const k = c.counts || {};
  return COUNTS.filter(([n]) => num(k[n]) > 0).map(([n, t]) => t.toLowerCase() + " " + num(k[n]))
    .join(", ") || "no recipients";
}

// The counts as a definition list; skipped by reason when the answer
// carries them (counts.skipped_reasons {reason: n}).
function countsList(c) {
  const k = c.counts || {};
  // Each dt/dd pair in a <div> (allowed in a <dl>): they wrap as tiles.
  const pair = (t, n, v) => el("div", { class: "wa-count" }, el("dt", {}, t),
    el("dd", { dataset: { count: n } }, v));
  const dl = el("dl", { class: "wa-counts", dataset: { counts: "1" } },
    pair("Recipients", "total", String(num(k.total))),
    COUNTS.map(([n, t]) => pair(t, n, String(num(k[n])))));
  const why = k.skipped_reasons || k.skipped_by_reason;
  if (why && typeof why === "object" && Object.keys(why).length)
    dl.append(pair("Skipped because", "skipped-reasons",
      Object.keys(why).map((r) => r.replace(/_/g, " ") + " " + num(why[r])).join(", ")));
  return dl;
}

function sourceText(src) {
  if (!src || typeof src !== "object") return "";
  if (src.file) return "file " + src.file;
  if (src.label) return "contacts labelled " + src.label;
  if (src.active_days) return "contacts who wrote within " + src.active_days + " days";
  return "CSV";
}

function numberText(c) {
  return c.number || app.numberName(c.phone_number_id) || c.phone_number_id || "";
}

function page(container, title) {
  ensureStyles();
  clear(container);
  const main = el("div", { class: "wa-page", dataset: { page: "campaigns" } });
  main.append(el("h1", { tabindex: "-1" }, title));
  container.append(main);
  return main;
}

export function renderCampaigns(container, params) {
  if (!app.can("admin")) {
    const main = page(container, "Campaigns");
    main.append(el("p", { class: "wa-error", role: "alert" }, "Only admins see campaigns."));
    return null;
  }
  if (params && params[0]) return renderOne(container, params[0]);
  return renderList(container);
}

// ------------------------------------------------------------------ list

function renderList(container) {
  const main = page(container, "Campaigns");
  const listSec = section("All campaigns", "campaign-list");
  const newSec = section("New campaign", "campaign-new");
  // A jump to the form below the list (focus, not the router's hash).
  const jump = el("a", { href: "#/campaigns", class: "wa-jump" }, "New campaign");
  jump.addEventListener("click", (e) => {
    e.preventDefault();
    newSec.scrollIntoView();
    const first = newSec.querySelector("input, select");
    if (first) first.focus();
  });
  main.append(el("p", {}, jump), listSec, newSec);
  let timer = null;
  let gone = false;
  const draw = async () => {
    let rows;
    try {
      rows = list(await app.api("GET", "/campaigns"));
    } catch (e) {
      reset(listSec).append(el("p", { class: "wa-error" }, why(e)));
      return;
    }
    if (gone) return;
    drawList(reset(listSec), rows);
    clearTimeout(timer);
    if (rows.some((c) => LIVE.includes(c.state))) timer = setTimeout(draw, REFRESH_MS);
  };
  draw();
  drawForm(newSec, draw);
  return () => {
    gone = true;
    clearTimeout(timer);
  };
}

function reset(s) {
  const h = s.firstChild;
  clear(s);
  s.append(h);
  return s;
}

function drawList(s, rows) {
  if (!rows.length) {
    s.append(el("p", { class: "wa-empty" }, "No campaigns yet: make one below."));
    return;
  }
  s.append(table("Campaigns, newest first", [
    { title: "Name", cell: (c) => el("a", { href: "#/campaigns/" + c.id, class: "wa-campaign-link" }, c.name) },
    { title: "Number", cell: (c) => numberText(c) },
    { title: "Template", cell: (c) => c.template + " (" + c.language + ")" },
    { title: "State", cell: (c) => el("span", { class: "wa-state wa-state-" + c.state }, c.state) },
    { title: "Progress", cell: progress },
    { title: "Counts", cell: countsText },
  ], rows, (c) => ({ dataset: { campaignId: c.id, campaignName: c.name, campaignState: c.state } })));
}

// ------------------------------------------------------------------ form

// The BODY text of a template and its parameters: positional {{1}}..
// (as many as the highest) or named {{name}} (in order of appearance).
function bodyOf(t) {
  const b = (t.components || []).find((c) => (c.type || "").toUpperCase() === "BODY");
  const text = (b && b.text) || "";
  const names = [];
  let n = 0;
  for (const m of text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)) {
    if (/^\d+$/.test(m[1])) n = Math.max(n, Number(m[1]));
    else if (!names.includes(m[1])) names.push(m[1]);
  }
  const params = names.length ? names : Array.from({ length: n }, (_, i) => String(i + 1));
  return { text, params };
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(new Error("The file " + file.name + " could not be read."));
    r.readAsText(file, "utf-8");
  });
}

async function drawForm(s, redrawList) {
  let numbers = [];
  let labels = [];
  try {
    [numbers, labels] = await Promise.all([app.api("GET", "/numbers").then(list),
      app.api("GET", "/labels").then(list).catch(() => [])]);
  } catch (e) {
    s.append(el("p", { class: "wa-error" }, why(e)));
    return;
  }
  numbers = numbers.filter((n) => !n.removed_at);
  let templates = [];

  const name = el("input", { type: "text", name: "name", required: true, maxlength: "64", autocomplete: "off" });
  const number = el("select", { name: "number", required: true },
    numbers.map((n) => el("option", { value: n.phone_number_id },
      (n.label || n.phone_number_id) + (n.display_phone_number ? " · " + n.display_phone_number : ""))));
  const tpl = el("select", { name: "template", required: true });
  const tplText = el("p", { class: "wa-meta wa-template-text", dir: "auto" });

  const modes = [["csv", "A CSV file"], ["label", "Contacts with a label"], ["active", "Contacts who wrote lately"]];
  const radios = modes.map(([v], i) => el("input", { type: "radio", name: "recipients", value: v, checked: i === 0 }));
  const pick = el("fieldset", { class: "wa-checks" }, el("legend", {}, "Recipients"),
    modes.map(([, t], i) => el("label", {}, radios[i], " ", t)));
  const file = el("input", { type: "file", name: "csv", accept: ".csv,text/csv,text/plain" });
  const csvHint = el("p", { class: "wa-meta" });
  const csvBox = el("div", { class: "wa-mode", dataset: { mode: "csv" } },
    field("CSV file", file), csvHint);
  const label = el("select", { name: "label" }, labels.map((l) => el("option", { value: l.name }, l.name)));
  const labelBox = el("div", { class: "wa-mode", dataset: { mode: "label" } },
    labels.length ? field("Label", label) : el("p", { class: "wa-empty" }, "No labels yet: add one to a chat."));
  const days = el("input", { type: "number", name: "active_days", min: "1", max: "365", value: "7" });
  const activeBox = el("div", { class: "wa-mode", dataset: { mode: "active" } },
    field("Wrote within this many days", days));
  const paramBox = el("div", { class: "wa-params" });
  const segBox = el("div", { class: "wa-segment" }, labelBox, activeBox, paramBox);
  const at = el("input", { type: "datetime-local", name: "at" });
  const previewBtn = el("button", { type: "button", dataset: { action: "preview" } }, "Preview");
  const createBtn = el("button", { type: "submit", dataset: { action: "create" } }, "Create campaign");
  const st = statusLine();
  const out = el("div", { class: "wa-campaign-preview", "aria-live": "polite" });
  let paramInputs = [];

  const mode = () => radios.find((r) => r.checked).value;
  const chosen = () => templates[Number(tpl.value)] || null;

  const showMode = () => {
    const m = mode();
    csvBox.hidden = m !== "csv";
    segBox.hidden = m === "csv";
    labelBox.hidden = m !== "label";
    activeBox.hidden = m !== "active";
  };
  const showTemplate = () => {
    const t = chosen();
    const b = t ? bodyOf(t) : { text: "", params: [] };
    tplText.textContent = b.text;
    csvHint.textContent = "Columns: wa_id" + b.params.map((p) => ", " + (/^\d+$/.test(p) ? "{{" + p + "}}" : p)).join("") +
      ", a header line first. Numbers with the country code.";
    clear(paramBox);
    paramInputs = b.params.map((p) => el("input", { type: "text", name: "param", required: false,
      maxlength: "1024", autocomplete: "off" }));
    if (paramInputs.length) {
      paramBox.append(el("p", { class: "wa-meta" }, "The same parameters for everyone; {name} becomes the contact's name."));
      paramInputs.forEach((x, i) => paramBox.append(field("Parameter " + (/^\d+$/.test(b.params[i]) ?
        "{{" + b.params[i] + "}}" : b.params[i]), x)));
    }
  };
  const loadTemplates = async () => {
    clear(tpl);
    templates = [];
    if (!number.value) return;
    try {
      const q = new URLSearchParams({ number: number.value, status: "APPROVED", limit: "200" });
      templates = list(await app.api("GET", "/templates?" + q.toString())).filter((t) => t.status === "APPROVED");
    } catch (e) {
      clear(st).append(why(e));
    }
    if (!templates.length) tpl.append(el("option", { value: "" }, "No approved template for this number"));
    templates.forEach((t, i) => tpl.append(el("option", { value: String(i) }, t.name + " (" + t.language + ")")));
    showTemplate();
  };

  number.addEventListener("change", loadTemplates);
  tpl.addEventListener("change", showTemplate);
  for (const r of radios) r.addEventListener("change", showMode);

  // The request body, or null with the reason in st.
  const body = async (dry) => {
    const t = chosen();
    const b = { name: name.value.trim(), number: number.value };
    if (!b.name) return fail("Give the campaign a name.", name);
    if (!t) return fail("Choose an approved template.", tpl);
    b.template = t.name;
    b.language = t.language;
    const m = mode();
    if (m === "csv") {
      const f = file.files && file.files[0];
      if (!f) return fail("Choose a CSV file with the recipients.", file);
      b.csv = await readFile(f);
      b.file_name = f.name.slice(0, 128);
    } else {
      if (m === "label") {
        if (!label.value) return fail("Choose a label.", label);
        b.segment = { label: label.value };
      } else {
        const d = Number(days.value);
        if (!Number.isInteger(d) || d < 1 || d > 365) return fail("Give a number of days from 1 to 365.", days);
        b.segment = { active_days: d };
      }
      if (paramInputs.length) {
        const missing = paramInputs.find((x) => !x.value.trim());
        if (missing) return fail("Fill in every parameter.", missing);
        b.params = paramInputs.map((x) => x.value);
      }
    }
    if (at.value) {
      const ms = new Date(at.value).getTime();
      if (!Number.isFinite(ms)) return fail("The start time is not a date and time.", at);
      b.at = Math.floor(ms / 1000);
    }
    if (dry) b.dry_run = true;
    return b;
  };
  const fail = (text, control) => {
    clear(out);
    clear(st).append(text);
    st.className = "wa-status wa-error";
    if (control) control.focus();
    return null;
  };
  const problem = (e) => {
    clear(out);
    const lines = e && e.body && Array.isArray(e.body.lines) ? e.body.lines : [];
    const box = el("div", { class: "wa-problem", role: "alert", dataset: { error: e.code || "" } },
      el("p", { class: "wa-error" }, why(e)));
    if (lines.length)
      box.append(el("ul", { class: "wa-lines" }, lines.map((l) =>
        el("li", { dataset: { line: l.line } }, "Line " + l.line + ": " + l.message))));
    out.append(box);
    box.scrollIntoView({ block: "nearest" });
    // The control the API names (its "field") is marked and focused.
    const named = { name, number, template: tpl, language: tpl, csv: file, segment: mode() === "label" ? label : days,
      params: paramInputs[0], at }[e && e.field];
    for (const x of form.querySelectorAll("[aria-invalid]")) x.removeAttribute("aria-invalid");
    if (named) {
      named.setAttribute("aria-invalid", "true");
      named.focus({ preventScroll: true });
    }
  };

  const send = async (dry) => {
    st.className = "wa-status";
    clear(st);
    const b = await body(dry);
    if (!b) return;
    let c;
    try {
      c = await post(b);
    } catch (e) {
      problem(e);
      return;
    }
    clear(out);
    for (const x of form.querySelectorAll("[aria-invalid]")) x.removeAttribute("aria-invalid");
    if (dry) {
      out.append(el("div", { class: "wa-once", role: "status", dataset: { preview: "1" } },
        el("h3", {}, "Preview of " + c.name), countsList(c),
        el("p", {}, "The first message:"),
        el("blockquote", { class: "wa-first-message", dir: "auto" }, c.preview || "(no queued recipient)")));
      out.scrollIntoView({ block: "nearest" });
      return;
    }
    out.append(el("p", { class: "wa-ok", role: "status" }, "Created ",
      el("a", { href: "#/campaigns/" + c.id }, c.name), ": " + countsText(c) + "."));
    name.value = "";
    redrawList();
  };
  previewBtn.addEventListener("click", () => busy(previewBtn, () => send(true), st));
  const form = el("form", { class: "wa-grid-form wa-campaign-form", dataset: { form: "new-campaign" } },
    field("Name", name), field("Number", number), field("Template", tpl), tplText,
    pick, csvBox, segBox, el("div", { class: "wa-row" }, field("Start (empty: now)", at)),
    el("div", { class: "wa-buttons" }, previewBtn, createBtn), st, out);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(createBtn, () => send(false), st);
  });
  s.append(form);
  showMode();
  await loadTemplates();
}

// POST /campaigns keeping the whole error answer (its "lines"), which
// app.api() does not pass on.
async function post(b) {
  const sess = app.session();
  const r = await fetch("/api/whatsapp/campaigns", { method: "POST", credentials: "same-origin",
    cache: "no-store", headers: { "Accept": "application/json", "Content-Type": "application/json",
      "X-CSRF-Token": sess ? sess.csrf_token : "" }, body: JSON.stringify(b) });
  let j = null;
  try {
    j = await r.json();
  } catch (e) {
    j = null;
  }
  if (r.ok && j) return j;
  const e = (j && j.error) || {};
  const err = new app.ApiError(r.status, e.code || "http_" + r.status,
    e.message || "The gateway answered " + r.status + ".", e.field);
  err.body = e;
  throw err;
}

// --------------------------------------------------------- one campaign

const SHOWN = 100;      // failed or skipped recipients listed on the page

// Recipients (newest first) as a table; the report has them all.
function recipients(s, rows, none) {
  if (!rows.length) {
    s.append(el("p", { class: "wa-empty" }, none));
    return;
  }
  s.append(table(null, [
    { title: "Line", cell: (r) => r.line === null || r.line === undefined ? "" : String(r.line) },
    { title: "Number", cell: (r) => r.wa_id },
    { title: "Why", cell: (r) => (r.error_code ? r.error_code + " " : "") + (r.reason || "").replace(/_/g, " ") },
    { title: "When", cell: (r) => when(r.updated_at) },
  ], rows, (r) => ({ dataset: { recipientId: r.id } })));
  if (rows.length >= SHOWN)
    s.append(el("p", { class: "wa-meta" }, "The newest " + SHOWN + "; the report lists them all."));
}

function renderOne(container, id) {
  const main = page(container, "Campaign");
  const back = el("p", {}, el("a", { href: "#/campaigns" }, "All campaigns"));
  const head = main.firstChild;
  const info = el("div", { class: "wa-campaign", dataset: { campaignId: id } });
  const st = statusLine();
  const failed = section("Failed recipients", "campaign-failed");
  const skipped = section("Skipped recipients", "campaign-skipped");
  const buttons = el("div", { class: "wa-buttons" });
  main.append(back, info, buttons, st, failed, skipped);
  let timer = null;
  let gone = false;
  let shownState = null;

  const draw = async () => {
    clearTimeout(timer);
    let c, fails, skips;
    const some = (state) => app.api("GET", "/campaigns/" + encodeURIComponent(id) +
      "/recipients?state=" + state + "&limit=" + SHOWN).then(list);
    try {
      [c, fails, skips] = await Promise.all([app.api("GET", "/campaigns/" + encodeURIComponent(id)),
        some("failed"), some("skipped")]);
    } catch (e) {
      if (gone) return;
      clear(info).append(el("p", { class: "wa-error", role: "alert" }, why(e)));
      if (e.status !== 404 && e.status !== 403) timer = setTimeout(draw, REFRESH_MS);
      return;
    }
    if (gone) return;
    head.textContent = "Campaign " + c.name;
    document.title = c.name + " · Campaigns";
    info.dataset.campaignState = c.state;
    add(clear(info), [
      el("dl", { class: "wa-dl" },
        el("dt", {}, "State"), el("dd", { class: "wa-state wa-state-" + c.state, dataset: { field: "state" } }, c.state),
        el("dt", {}, "Number"), el("dd", {}, numberText(c)),
        el("dt", {}, "Template"), el("dd", {}, c.template + " (" + c.language + ")"),
        el("dt", {}, "Recipients from"), el("dd", {}, sourceText(c.source)),
        el("dt", {}, "Starts"), el("dd", {}, when(c.start_at) || "now"),
        el("dt", {}, "Created"), el("dd", {}, when(c.created_at)),
        c.finished_at ? [el("dt", {}, "Finished"), el("dd", {}, when(c.finished_at))] : null),
      c.wait_reason ? el("p", { class: "wa-warn", dataset: { field: "wait-reason" } }, "Waiting",
        c.wait_until ? " until " + when(c.wait_until) : "", ": ", c.wait_reason) : null,
      progress(c), countsList(c),
      c.preview ? el("p", {}, "The first message: ",
        el("q", { class: "wa-first-message", dir: "auto" }, c.preview)) : null,
      el("p", {}, el("a", { href: "/api/whatsapp/campaigns/" + encodeURIComponent(id) + "/report.csv",
        download: "campaign-" + c.name + ".csv", class: "wa-report" }, "Download the report (CSV)"))]);
    if (shownState !== c.state) {
      shownState = c.state;
      drawButtons(c);
    }
    recipients(reset(failed), fails, "None failed.");
    recipients(reset(skipped), skips, "None skipped.");
    if (LIVE.includes(c.state)) timer = setTimeout(draw, REFRESH_MS);
  };

  const act = (b, what) => busy(b, async () => {
    await app.api("POST", "/campaigns/" + encodeURIComponent(id) + "/" + what);
    shownState = null;
    await draw();
    clear(st).append("The campaign is " + (info.dataset.campaignState || what) + ".");
  }, st);
  const drawButtons = (c) => {
    clear(buttons);
    st.className = "wa-status";
    if (LIVE.includes(c.state)) {
      const b = el("button", { type: "button", dataset: { action: "pause" } }, "Pause");
      b.addEventListener("click", () => act(b, "pause"));
      buttons.append(b);
    }
    if (c.state === "paused") {
      const b = el("button", { type: "button", dataset: { action: "resume" } }, "Resume");
      b.addEventListener("click", () => act(b, "resume"));
      buttons.append(b);
    }
    if (c.state !== "done" && c.state !== "cancelled") {
      const b = el("button", { type: "button", class: "wa-danger", dataset: { action: "cancel" } }, "Cancel campaign");
      b.addEventListener("click", () => {
        if (!window.confirm("Cancel " + c.name + "? Recipients not sent yet are skipped; it cannot be resumed.")) return;
        act(b, "cancel");
      });
      buttons.append(b);
    }
  };
  draw();
  return () => {
    gone = true;
    clearTimeout(timer);
  };
}

register("campaigns", renderCampaigns);
