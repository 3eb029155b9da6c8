// app.js: the inbox's core.  The API client (same origin, session cookie,
// CSRF header), the signed-in person, a DOM builder that only ever makes
// text nodes from data, a hash router, the header (name, role, number
// filter, sign-out), the change poller and the sign-in page.
//
// Exports used by the other modules (list.js, chat.js, compose.js and the
// manage helper's panel.js, ops.js, admin.js):
//   api(method, path, body) -> Promise of parsed JSON (null for 204);
//       rejects with an ApiError {status, code, message, field}
//   session() -> {user, csrf_token, ...} or null; can(role) -> bool
//   h(tag, attrs, ...children); route(name, render); toast(text)
//   numbers() -> the numbers the person may see; numberFilter() -> the
//       chosen phone_number_id or "" for all
//   onChanges(fn) -> unsubscribe: fn(ids) after GET /changes saw changes
//   fmtTime(unix), fmtSize(bytes)

const BASE = "/api/whatsapp";
const ROLES = ["viewer", "agent", "admin"];
const HINT = "wa_inbox_signed_in";   // localStorage: "1" while signed in

export class ApiError extends Error {
	constructor(status, code, message, field) {
		super(message);
		this.name = "ApiError";
		this.status = status;
		this.code = code;
		this.field = field;
	}
}

let current = null;          // the GET/POST /session answer
let numberList = [];
let chosenNumber = "";

export function session() {
	return current;
}

export function can(role) {
	if (!current || !current.user)
		return false;
	return ROLES.indexOf(current.user.role) >= ROLES.indexOf(role);
}

export function numbers() {
	return numberList;
}

export function numberFilter() {
	return chosenNumber;
}

// One label for a number: its label, else its display number, else id.
export function numberName(pnid) {
	const n = numberList.find((x) => x.phone_number_id === pnid);
	return (n && (n.label || n.display_phone_number)) || pnid || "";
}

// body: undefined (none), a Blob/File (sent raw with its type), or a
// value sent as JSON.
export async function api(method, path, body) {
	const headers = { "Accept": "application/json" };
	let payload;
	if (body instanceof Blob) {
		payload = body;
		headers["Content-Type"] = body.type || "application/octet-stream";
	} else if (body !== undefined) {
		payload = JSON.stringify(body);
		headers["Content-Type"] = "application/json";
	}
	if (method !== "GET" && method !== "HEAD" && current)
		headers["X-CSRF-Token"] = current.csrf_token;
	let r;
	try {
		r = await fetch(BASE + path, { method, headers, body: payload,
		    credentials: "same-origin", cache: "no-store" });
	} catch (e) {
		throw new ApiError(0, "network", "The gateway could not be reached; check the connection.");
	}
	if (r.status === 204)
		return null;
	let j = null;
	try {
		j = await r.json();
	} catch (e) {
		j = null;
	}
	if (!r.ok) {
		const e = (j && j.error) || {};
		if (r.status === 401 && path !== "/session" && current)
			expired();
		throw new ApiError(r.status, e.code || "http_" + r.status,
		    e.message || "The gateway answered " + r.status + ".", e.field);
	}
	return j;
}

// Builds an element.  attrs: class, dataset {..}, on<event>: function,
// true/false for boolean attributes, anything else via setAttribute.
// Children: nodes, strings (as text nodes), arrays, null/false (skipped).
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const k of Object.keys(attrs)) {
			const v = attrs[k];
			if (v === null || v === undefined || v === false)
				continue;
			if (k.startsWith("on") && typeof v === "function")
				el.addEventListener(k.slice(2), v);
			else if (k === "class")
				el.className = v;
			else if (k === "dataset")
				Object.assign(el.dataset, v);
			else if (k === "value")
				el.value = v;
			else if (k === "style")
				throw new Error("h: no style attributes (CSP)");
			else
				el.setAttribute(k, v === true ? "" : String(v));
		}
	}
	add(el, children);
	return el;
}

function add(el, c) {
	if (c === null || c === undefined || c === false)
		return;
	if (Array.isArray(c)) {
		for (const x of c)
			add(el, x);
	} else if (c instanceof Node) {
		el.appendChild(c);
	} else {
		el.appendChild(document.createTextNode(String(c)));
	}
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

let toastBox = null;
export function toast(text) {
	if (!toastBox) {
		toastBox = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
		document.body.appendChild(toastBox);
	}
	const t = h("p", { class: "toast" }, text);
	toastBox.appendChild(t);
	setTimeout(() => t.remove(), 5000);
}

export function fmtTime(unix) {
	if (!unix)
		return "";
	const d = new Date(unix * 1000), now = new Date();
	if (d.toDateString() === now.toDateString())
		return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
	if (now - d < 6 * 86400 * 1000)
		return d.toLocaleDateString([], { weekday: "short" }) + " " +
		    d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
	return d.toLocaleDateString();
}

export function fmtFull(unix) {
	return unix ? new Date(unix * 1000).toLocaleString() : "";
}

export function fmtSize(n) {
	if (n === null || n === undefined)
		return "";
	if (n < 1024)
		return n + " B";
	if (n < 1024 * 1024)
		return (n / 1024).toFixed(1) + " KB";
	return (n / 1024 / 1024).toFixed(1) + " MB";
}

// ------------------------------------------------------------ router

const routes = new Map();
let shown = null;            // {name, cleanup}

// render(container, params) may return a function called when the view
// is left.  params: the path words after #/name/.
export function route(name, render) {
	routes.set(name, render);
	if (current && location.hash.startsWith("#/" + name))
		show();
}

export function go(hash) {
	if (location.hash === hash)
		show();
	else
		location.hash = hash;
}

function parseHash() {
	const words = location.hash.replace(/^#\/?/, "").split("/").filter((w) => w !== "").map(decodeURIComponent);
	return { name: words[0] || "inbox", params: words.slice(1) };
}

let mainEl = null;
let viewState = { name: null, key: null };

function show() {
	if (!current || !mainEl)
		return;
	const { name, params } = parseHash();
	const render = routes.get(name) || routes.get("inbox");
	for (const a of document.querySelectorAll(".nav a"))
		a.setAttribute("aria-current", a.dataset.view === name ? "page" : "false");
	// A view that handles its own params keeps its state: it gets an
	// update(params) call instead of a fresh render.
	if (shown && shown.name === name && shown.update) {
		shown.update(params);
		return;
	}
	if (shown && shown.cleanup)
		shown.cleanup();
	clear(mainEl);
	const r = render(mainEl, params);
	shown = { name, cleanup: null, update: null };
	if (typeof r === "function")
		shown.cleanup = r;
	else if (r && typeof r === "object") {
		shown.cleanup = r.cleanup || null;
		shown.update = r.update || null;
	}
}

// ------------------------------------------------------------ changes

const changeSubs = new Set();
let cursor = null;
let pollTimer = null;
let polling = false;
let backoff = 1000;

export function onChanges(fn) {
	changeSubs.add(fn);
	return () => changeSubs.delete(fn);
}

function schedule(ms) {
	clearTimeout(pollTimer);
	pollTimer = setTimeout(poll, ms);
}

// One GET /changes in flight at most, every second while the tab is
// visible; errors back off up to 30 s.  A hidden tab stops polling and
// polls at once when shown again.
async function poll() {
	if (!current || polling)
		return;
	if (document.hidden)
		return;
	polling = true;
	try {
		const path = cursor ? "/changes?since=" + encodeURIComponent(cursor) : "/changes";
		const r = await api("GET", path);
		const first = cursor === null;
		cursor = r.cursor;
		backoff = 1000;
		if (!first && r.conversations && r.conversations.length)
			for (const fn of changeSubs)
				try {
					fn(r.conversations, r.more);
				} catch (e) {
					console.warn("change handler", e);
				}
		polling = false;
		schedule(r.more ? 0 : 1000);
	} catch (e) {
		polling = false;
		if (!current)
			return;
		backoff = Math.min(backoff * 2, 30000);
		schedule(backoff);
	}
}

document.addEventListener("visibilitychange", () => {
	if (!document.hidden && current)
		schedule(0);
});

// ------------------------------------------------------------ shell

function expired() {
	current = null;
	localStorage.removeItem(HINT);
	clearTimeout(pollTimer);
	signInPage("Your session has ended; sign in again.");
}

async function signOut() {
	try {
		await api("DELETE", "/session");
	} catch (e) {
		// Signed out either way below: the cookie may be gone already.
	}
	current = null;
	cursor = null;
	localStorage.removeItem(HINT);
	clearTimeout(pollTimer);
	if (shown && shown.cleanup)
		shown.cleanup();
	shown = null;
	signInPage("You are signed out.");
}

function signInPage(note) {
	const root = clear(document.getElementById("app"));
	mainEl = null;
	document.title = "Sign in · Inbox";
	const err = h("p", { class: "error", id: "signin-error", role: "alert" });
	const user = h("input", { id: "username", name: "username", type: "text",
	    autocomplete: "username", required: true, autocapitalize: "none",
	    spellcheck: "false" });
	const pass = h("input", { id: "password", name: "password", type: "password",
	    autocomplete: "current-password", required: true });
	const btn = h("button", { type: "submit", class: "primary" }, "Sign in");
	const form = h("form", { class: "signin", method: "post",
	    action: BASE + "/session", "aria-labelledby": "signin-title" },
	    h("img", { src: document.querySelector("link[rel=icon]").getAttribute("href"), alt: "", class: "logo" }),
	    h("h1", { id: "signin-title" }, "Sign in to the inbox"),
	    note ? h("p", { class: "note" }, note) : null,
	    h("label", { for: "username" }, "Username"), user,
	    h("label", { for: "password" }, "Password"), pass,
	    btn, err);
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		err.textContent = "";
		btn.disabled = true;
		try {
			current = await api("POST", "/session", { username: user.value, password: pass.value });
			localStorage.setItem(HINT, "1");
			pass.value = "";
			await start();
		} catch (e) {
			err.textContent = e.code === "bad_credentials"
			    ? "Wrong username or password." : e.message;
			pass.select();
		} finally {
			btn.disabled = false;
		}
	});
	root.appendChild(h("main", { class: "signin-page" }, form));
	user.focus();
}

async function loadNumbers() {
	try {
		const r = await api("GET", "/numbers");
		numberList = (r && r.data) || [];
	} catch (e) {
		numberList = [];
	}
}

function header() {
	const u = current.user;
	const sel = h("select", { id: "number-filter", "aria-label": "Number" },
	    h("option", { value: "" }, "All numbers"),
	    numberList.map((n) => h("option", { value: n.phone_number_id },
	        (n.label || n.phone_number_id) + (n.display_phone_number ? " · " + n.display_phone_number : ""))));
	sel.value = chosenNumber;
	sel.addEventListener("change", () => {
		chosenNumber = sel.value;
		sessionStorage.setItem("wa_number", chosenNumber);
		window.dispatchEvent(new CustomEvent("wa:number"));
	});
	const links = [["inbox", "Inbox", "viewer"], ["ops", "Operations", "admin"],
	    ["stats", "Statistics", "admin"], ["campaigns", "Campaigns", "admin"],
	    ["admin", "Admin", "admin"]];
	const mine = links.filter((l) => can(l[2]));
	return h("header", { class: "top" },
	    h("a", { class: "brand", href: "#/inbox", "aria-label": "Inbox" },
	        h("img", { src: document.querySelector("link[rel=icon]").getAttribute("href"), alt: "", class: "logo" }),
	        h("span", null, "Inbox")),
	    // One page only (agents, viewers): the brand link is the way home.
	    mine.length > 1 ? h("nav", { class: "nav", "aria-label": "Pages" },
	        mine.map((l) => h("a", { href: "#/" + l[0], dataset: { view: l[0] } }, l[1]))) : null,
	    numberList.length > 1 ? sel : null,
	    h("span", { class: "who" },
	        h("span", { class: "who-name" }, u.display_name || u.name),
	        " ", h("span", { class: "role role-" + u.role }, u.role)),
	    h("span", { id: "alerts", class: "alerts" }),   // alerts.js (issue 16)
	    h("button", { type: "button", class: "signout", onclick: signOut }, "Sign out"));
}

async function start() {
	await loadNumbers();
	chosenNumber = sessionStorage.getItem("wa_number") || "";
	if (chosenNumber && !numberList.some((n) => n.phone_number_id === chosenNumber))
		chosenNumber = "";
	const root = clear(document.getElementById("app"));
	document.title = "Inbox";
	mainEl = h("main", { id: "view", class: "view" });
	root.appendChild(header());
	root.appendChild(mainEl);
	shown = null;
	cursor = null;
	backoff = 1000;
	// The change cursor is taken before the first list is read, so a
	// message arriving in between is seen as a change, never missed.
	try {
		cursor = (await api("GET", "/changes")).cursor;
	} catch (e) {
		cursor = null;
	}
	show();
	schedule(1000);
}

window.addEventListener("hashchange", show);

// Issue 15: make run's sandbox mode (GET /health says "sandbox": true):
// a banner above every page, so nobody takes the replies for real ones.
async function sandboxBanner() {
	let j = null;
	try {
		const r = await fetch(BASE + "/health", { headers: { "Accept": "application/json" },
		    credentials: "same-origin", cache: "no-store" });
		j = await r.json();
	} catch (e) {
		j = null;
	}
	// Said on <body> either way (data-sandbox), so tests can wait on it.
	document.body.dataset.sandbox = j && j.sandbox === true ? "on" : "off";
	if (!j || j.sandbox !== true || document.getElementById("sandbox-banner"))
		return;
	document.body.classList.add("sandbox");
	document.body.insertBefore(h("p", { id: "sandbox-banner", class: "sandbox-banner", role: "note" },
	    h("strong", null, "Sandbox"),
	    " · replies go to the local sandbox, not to WhatsApp. Be the customer: ",
	    h("code", null, "build/wactl chat --from 15550001111")), document.body.firstChild);
}

async function boot() {
	sandboxBanner();
	// Asks for the session only when this browser signed in before:
	// a 401 would log a console error on every first visit.
	if (localStorage.getItem(HINT) === "1") {
		try {
			current = await api("GET", "/session");
		} catch (e) {
			current = null;
			localStorage.removeItem(HINT);
		}
	}
	if (current)
		await start();
	else
		signInPage(null);
}

// Views register themselves with route() when imported.  Imported once
// this module has run (no top-level await): they import it in turn.
Promise.allSettled([import("./list.js"), import("./ops.js"), import("./admin.js"),
    import("./alerts.js"), import("./campaigns.js")])
    .then((rs) => {
	for (const r of rs)
		if (r.status === "rejected")
			console.warn("a view did not load", r.reason);
	boot();
});
