// alerts.js: the person's open alerts in the header (issue 16): a badge
// with their count, opening a list of what the worker raised for them
// (and, for an admin, the gateway's), each with a Resolve button.  Polls
// GET /alerts every 30 s while a header is shown; built from text nodes
// only (app.js's h()).

import { api, clear, fmtTime, h, session, toast } from "./app.js";

const POLL_MS = 30000;
let busy = false;

async function refresh() {
	const box = document.getElementById("alerts");
	if (!box || !session() || busy)
		return;
	busy = true;
	let rows = null;
	try {
		rows = (await api("GET", "/alerts?state=open&limit=200")).data;
	} catch (e) {
		rows = null;
	} finally {
		busy = false;
	}
	if (rows === null)
		return;
	const open = box.querySelector("details") && box.querySelector("details").open;
	clear(box);
	box.dataset.count = String(rows.length);
	if (rows.length === 0)
		return;
	const list = h("ul", { class: "alerts-list" }, rows.map((a) =>
	    h("li", { dataset: { alertId: String(a.id) } },
	        h("span", { class: "alert-summary" }, a.summary),
	        " ", h("time", { class: "alert-time" }, fmtTime(a.created_at)),
	        " ", h("button", { type: "button", class: "alert-resolve", onclick: () => resolve(a.id) },
	            "Resolve"))));
	const d = h("details", { class: "alerts-menu" },
	    h("summary", { "aria-label": rows.length + " open alerts" }, "Alerts ",
	        h("span", { class: "badge" }, String(rows.length))),
	    list);
	d.open = !!open;
	box.appendChild(d);
}

async function resolve(id) {
	try {
		await api("POST", "/alerts/" + id + "/resolve");
	} catch (e) {
		toast(e.message || "The alert could not be resolved.");
	}
	refresh();
}

// The header is rebuilt at sign-in: look for it a moment after, then
// on the timer.
new MutationObserver(() => {
	const box = document.getElementById("alerts");
	if (box && !box.dataset.count)
		refresh();
}).observe(document.body, { childList: true, subtree: true });
setInterval(refresh, POLL_MS);
