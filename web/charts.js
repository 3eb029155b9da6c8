// charts.js: plain SVG bar charts built as DOM (no library, no innerHTML).
// Every bar is a <rect class="wa-bar ..."> with data-value and a <title>
// tooltip; every chart also carries its figures as a table (in a
// <details>), so screen readers and keyboards get the numbers too.
import { el, uid } from "./manage-dom.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

// A round upper bound for an axis: 1, 2, 5 x 10^n at or above max.
function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function fmt(v, unit) {
  if (v === null || v === undefined) return "none";
  return unit ? v + " " + unit : String(v);
}

function figure(name, title, summary, body, tableRows, tableHead) {
  const cap = uid("wa-chart");
  const f = el("figure", { class: "wa-chart", dataset: { chart: name },
    "aria-labelledby": cap });
  f.append(el("figcaption", { id: cap }, title));
  f.append(body);
  if (tableRows.length) {
    f.append(el("details", { class: "wa-chart-data" },
      el("summary", {}, "Figures as a table"),
      el("table", { class: "wa-table" },
        el("thead", {}, el("tr", {}, tableHead.map((t) => el("th", { scope: "col" }, t)))),
        el("tbody", {}, tableRows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))))));
  }
  if (summary) f.dataset.summary = summary;
  return f;
}

function empty(name, title) {
  return figure(name, title, "",
    el("p", { class: "wa-empty" }, "No data for this period."), [], []);
}

// Vertical grouped bars: one group per category, one bar per series.
// opts: {name, title, categories: [text], series: [{name, cls, values: [n|null]}], unit}
export function barChart(opts) {
  const cats = opts.categories || [];
  const series = opts.series || [];
  const any = series.some((s) => s.values.some((v) => v > 0));
  if (!cats.length || !any) return empty(opts.name, opts.title);
  const W = 640, H = 240, L = 44, B = 34, T = 10, R = 8;
  const max = niceMax(Math.max(...series.flatMap((s) => s.values.map((v) => v || 0))));
  const gw = (W - L - R) / cats.length;
  const bw = Math.max(1, (gw * 0.8) / series.length);
  const y = (v) => T + (H - T - B) * (1 - (v || 0) / max);
  const labelId = uid("wa-svg");
  const g = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
    "aria-labelledby": labelId, class: "wa-svg", preserveAspectRatio: "xMidYMid meet" });
  g.append(svg("title", { id: labelId }, opts.title + ": " +
    series.map((s) => s.name + " " + s.values.reduce((a, b) => a + (b || 0), 0) +
      (opts.unit ? "" : " in all")).join(", ")));
  for (const t of [0, max / 2, max]) {
    g.append(svg("line", { class: "wa-grid", x1: L, x2: W - R, y1: y(t), y2: y(t) }));
    g.append(svg("text", { class: "wa-axis", x: L - 4, y: y(t) + 4, "text-anchor": "end" },
      Number.isInteger(t) ? t : t.toFixed(1)));
  }
  const every = Math.ceil(cats.length / 10);
  cats.forEach((c, i) => {
    const x0 = L + gw * i + gw * 0.1;
    series.forEach((s, j) => {
      const v = s.values[i];
      const top = y(v);
      const r = svg("rect", { class: "wa-bar " + (s.cls || ""), x: x0 + j * bw,
        y: top, width: Math.max(1, bw - 1), height: H - B - top,
        "data-value": v === null || v === undefined ? "" : v,
        "data-series": s.name, "data-category": c },
      svg("title", {}, c + ", " + s.name + ": " + fmt(v, opts.unit)));
      g.append(r);
    });
    if (i % every === 0) {
      g.append(svg("text", { class: "wa-axis", x: x0 + (gw * 0.8) / 2, y: H - B + 16,
        "text-anchor": "middle" }, c));
    }
  });
  const legend = el("ul", { class: "wa-legend" },
    series.map((s) => el("li", {}, el("span", { class: "wa-key " + (s.cls || ""),
      "aria-hidden": "true" }), s.name)));
  const body = el("div", { class: "wa-chart-body" }, g, legend);
  return figure(opts.name, opts.title, "", body,
    cats.map((c, i) => [c, ...series.map((s) => fmt(s.values[i], opts.unit))]),
    ["", ...series.map((s) => s.name)]);
}

// Horizontal bars, one row per item, largest first as given.
// opts: {name, title, items: [{label, value}], unit}
export function hbarChart(opts) {
  const items = (opts.items || []).filter((it) => it.value > 0);
  if (!items.length) return empty(opts.name, opts.title);
  const W = 640, row = 26, L = 200, R = 60;
  const H = row * items.length + 8;
  const max = Math.max(...items.map((it) => it.value));
  const labelId = uid("wa-svg");
  const g = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
    "aria-labelledby": labelId, class: "wa-svg" });
  g.append(svg("title", { id: labelId }, opts.title + ": " +
    items.map((it) => it.label + " " + fmt(it.value, opts.unit)).join(", ")));
  items.forEach((it, i) => {
    const yy = 4 + i * row;
    const w = Math.max(1, (W - L - R) * it.value / max);
    const label = it.label.length > 30 ? it.label.slice(0, 29) + "\u2026" : it.label;
    g.append(svg("text", { class: "wa-axis", x: L - 6, y: yy + row / 2 + 4,
      "text-anchor": "end" }, label));
    g.append(svg("rect", { class: "wa-bar " + (opts.cls || "wa-s1"), x: L, y: yy + 3,
      width: w, height: row - 8, "data-value": it.value, "data-category": it.label },
    svg("title", {}, it.label + ": " + fmt(it.value, opts.unit))));
    g.append(svg("text", { class: "wa-value", x: L + w + 4, y: yy + row / 2 + 4 },
      fmt(it.value, opts.unit)));
  });
  return figure(opts.name, opts.title, "", el("div", { class: "wa-chart-body" }, g),
    items.map((it) => [it.label, fmt(it.value, opts.unit)]), ["", opts.valueTitle || "count"]);
}
