// chat.js: one open conversation: header (name, number, window, back
// button on phones), its messages (older ones load on scroll up), the
// side panel (panel.js, the manage helper's) and the composer.
// openChat(pane, id, {focus, onRead}) -> {close(), refresh(), focusMessage(id)}
import { api, h, clear, can, session, toast, fmtFull, fmtTime, numberName } from "./app.js";
import { renderMessage, formatText, previewText } from "./render.js";
import { renderComposer } from "./compose.js";
import { renderPanel } from "./panel.js";

const PAGE = 50;
const EMOJIS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

export function openChat(pane, id, opts) {
	let conv = null;
	const msgs = new Map();         // id -> row
	const byWamid = new Map();      // wamid -> row
	const els = new Map();          // id -> element
	let older = null;               // next_cursor for older messages
	let closed = false;
	let refreshing = false, again = false;
	let composer = null;
	let menuOpen = null;
	const pending = new Map();      // outbox id -> element, until its message shows
	const failed = new Set();       // outbox ids drawn as failed

	const title = h("h2", { class: "chat-name", dir: "auto" }, "");
	const sub = h("p", { class: "chat-sub" });
	const win = h("span", { class: "window" });
	const panelBox = h("aside", { class: "panel", "aria-label": "Details" });
	const panelBtn = h("button", { type: "button", class: "panel-toggle", "aria-expanded": "false",
	    "aria-controls": "panel-" + id, onclick: () => togglePanel() }, "Details");
	panelBox.id = "panel-" + id;
	const olderBtn = h("button", { type: "button", class: "older", hidden: true,
	    onclick: () => loadOlder() }, "Older messages");
	const list = h("div", { class: "messages", role: "log", "aria-label": "Messages",
	    "aria-busy": "true", tabindex: "0" }, olderBtn);
	const composeBox = h("div", { class: "composer-box" });
	const root = h("div", { class: "chat", dataset: { conversationId: id } },
	    h("header", { class: "chat-head" },
	        h("a", { class: "back", href: "#/inbox", "aria-label": "Back to the chat list" }, "←"),
	        h("div", { class: "chat-title" }, title, sub), win, panelBtn),
	    h("div", { class: "chat-body" },
	        h("div", { class: "chat-main" }, list, composeBox), panelBox));
	pane.appendChild(root);

	function togglePanel(force) {
		const open = force !== undefined ? force : !root.classList.contains("panel-open");
		root.classList.toggle("panel-open", open);
		panelBtn.setAttribute("aria-expanded", open ? "true" : "false");
	}

	function name() {
		return conv ? (conv.name || conv.profile_name || "+" + (conv.wa_id || conv.phone)) : "";
	}

	// Reactions on a message: the newest of each side wins; an empty
	// emoji takes it back.
	let rx = null;                  // wamid -> reaction rows, oldest first
	function reactions(wamid) {
		if (!rx) {
			rx = new Map();
			const all = [...msgs.values()].filter((m) => m.type === "reaction" && m.reaction_to)
			    .sort((a, b) => a.timestamp - b.timestamp || a.id - b.id);
			for (const r of all) {
				if (!rx.has(r.reaction_to))
					rx.set(r.reaction_to, []);
				rx.get(r.reaction_to).push(r);
			}
		}
		const last = {};
		for (const r of rx.get(wamid) || [])
			last[r.direction] = r.reaction_emoji || "";
		return Object.keys(last).filter((d) => last[d]).map((d) => ({ direction: d, emoji: last[d] }));
	}

	function scrollTo(wamid) {
		const m = byWamid.get(wamid);
		const el = m && els.get(m.id);
		if (el)
			highlight(el);
		else
			toast("That message is older than the ones loaded.");
	}

	function highlight(el) {
		el.scrollIntoView({ block: "center" });
		el.classList.add("focus-hit");
		el.focus({ preventScroll: true });
		setTimeout(() => el.classList.remove("focus-hit"), 2500);
	}

	function closeMenu() {
		if (menuOpen) {
			menuOpen.remove();
			menuOpen = null;
		}
	}

	// The message menu (agents): reply to it, react to it.
	function menu(m) {
		if (!can("agent") || m.direction !== "in" || m.revoked_at || m.type === "reaction")
			return null;
		const btn = h("button", { type: "button", class: "msg-menu", "aria-haspopup": "true",
		    "aria-label": "Reply or react", title: "Reply or react" }, "⋯");
		btn.addEventListener("click", (e) => {
			e.stopPropagation();
			const had = menuOpen && menuOpen.parentNode === btn.parentNode;
			closeMenu();
			if (had)
				return;
			const first = h("button", { type: "button", role: "menuitem",
			    onclick: () => { closeMenu(); composer && composer.replyTo(m); } }, "Reply");
			menuOpen = h("div", { class: "menu", role: "menu", "aria-label": "Message actions",
			    onkeydown: (ev) => {
				    if (ev.key === "Escape") {
					    closeMenu();
					    btn.focus();
				    }
			    } },
			    first,
			    h("div", { class: "emojis", role: "group", "aria-label": "React" },
			        EMOJIS.map((em) => h("button", { type: "button", role: "menuitem", class: "emoji",
			            "aria-label": "React " + em, onclick: () => { closeMenu(); react(m, em); } }, em))));
			btn.after(menuOpen);
			first.focus();
		});
		return btn;
	}

	async function react(m, emoji) {
		try {
			await api("POST", "/send", { to: conv.wa_id || conv.phone, from: conv.phone_number_id,
			    type: "reaction", reaction: { message_id: m.wamid, emoji } });
			toast("Reaction sent.");
		} catch (e) {
			toast("The reaction was not sent: " + e.message);
		}
	}

	const rctx = { byWamid: (w) => byWamid.get(w), reactions, scrollTo, menu,
	    get name() { return name(); } };

	function visible(m) {
		return m.type !== "reaction" && m.type !== "edit" && m.type !== "revoke";
	}

	function sig(m) {
		return JSON.stringify(m) + "|" + JSON.stringify(reactions(m.wamid));
	}

	// Puts rows into place (new ones by id order), re-rendering changed
	// ones; returns the number of new visible rows.
	function place(rows) {
		let added = 0;
		const touched = new Set();
		for (const m of rows) {
			if (m.type === "reaction")
				rx = null;
			msgs.set(m.id, m);
			byWamid.set(m.wamid, m);
			if (m.type === "reaction" && byWamid.get(m.reaction_to))
				touched.add(byWamid.get(m.reaction_to).id);
			if (visible(m))
				touched.add(m.id);
		}
		const ids = [...touched].sort((a, b) => a - b);
		for (const mid of ids) {
			const m = msgs.get(mid);
			if (!m || !visible(m))
				continue;
			const s = sig(m);
			const old = els.get(mid);
			if (old && old.dataset.sig === s)
				continue;
			const el = renderMessage(m, rctx);
			el.dataset.sig = s;
			if (old) {
				old.replaceWith(el);
			} else {
				added++;
				// The first element with a larger id follows it.
				let next = null;
				for (const [oid, oel] of els)
					if (oid > mid && (!next || oid < Number(next.dataset.id)))
						next = oel;
				list.insertBefore(el, next);
			}
			els.set(mid, el);
		}
		return added;
	}

	function atBottom() {
		return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
	}

	async function loadConv() {
		conv = await api("GET", "/conversations/" + id);
		title.textContent = name();
		sub.textContent = "+" + (conv.wa_id || conv.phone) + " · " +
		    (conv.number_label || numberName(conv.phone_number_id));
		const open = windowOpen();
		win.className = "window " + (open ? "open" : "closed");
		win.textContent = open ? "Window open" : "Window closed";
		win.title = open ? "Free-form replies until " + fmtFull(conv.window_expires_at)
		    : "The customer has not written in 24 hours: only templates can be sent.";
		if (composer)
			composer.update(conv);
	}

	function windowOpen() {
		if (typeof conv.window_open === "boolean")
			return conv.window_open;
		return !!conv.window_expires_at && conv.window_expires_at * 1000 > Date.now();
	}

	async function loadOlder() {
		if (!older)
			return;
		const before = list.scrollHeight - list.scrollTop;
		olderBtn.disabled = true;
		try {
			const r = await api("GET", "/conversations/" + id + "/messages?limit=" + PAGE +
			    "&cursor=" + encodeURIComponent(older));
			older = r.next_cursor || null;
			place(r.data);
			list.scrollTop = list.scrollHeight - before;
		} catch (e) {
			toast("Older messages could not be loaded: " + e.message);
		} finally {
			olderBtn.disabled = false;
			olderBtn.hidden = !older;
		}
	}

	async function markRead() {
		if (!can("agent") || !conv || !conv.unread_count)
			return;
		try {
			await api("POST", "/mark-read", { conversation_id: id });
			conv.unread_count = 0;
			if (opts.onRead)
				opts.onRead();
		} catch (e) {
			// The list still shows the count; nothing else depends on it.
		}
	}

	async function first() {
		try {
			await loadConv();
			const r = await api("GET", "/conversations/" + id + "/messages?limit=" + PAGE);
			if (closed)
				return;
			older = r.next_cursor || null;
			place(r.data);
			olderBtn.hidden = !older;
			list.setAttribute("aria-busy", "false");
			if (!r.data.length)
				list.appendChild(h("p", { class: "empty" }, "No messages yet."));
			await loadFailed();
			list.scrollTop = list.scrollHeight;
			performance.mark("wa:chat-rendered");
			if (opts.focus)
				await focusMessage(opts.focus);
			renderSide();
			composer = renderComposer(composeBox, conv, { onSent: addPending });
			markRead();
		} catch (e) {
			if (closed)
				return;
			clear(list).appendChild(h("p", { class: "error", role: "alert" },
			    e.status === 404 ? "No such chat." : "The chat could not be loaded: " + e.message));
			list.setAttribute("aria-busy", "false");
		}
	}

	function renderSide() {
		clear(panelBox);
		try {
			renderPanel(panelBox, conv, { api, session, refresh: () => refresh(true) });
		} catch (e) {
			console.warn("panel", e);
		}
	}

	// New messages and status changes: the newest page again, merged.
	async function refresh(withPanel) {
		if (closed)
			return;
		if (refreshing) {
			again = true;
			return;
		}
		refreshing = true;
		try {
			const stick = atBottom();
			await loadConv();
			const r = await api("GET", "/conversations/" + id + "/messages?limit=" + PAGE);
			if (closed)
				return;
			const added = place(r.data);
			if (added) {
				const e = list.querySelector(":scope > p.empty");
				if (e)
					e.remove();
			}
			if (added && stick)
				list.scrollTop = list.scrollHeight;
			performance.mark("wa:chat-rendered");
			if (pending.size)
				await checkPending();
			if (withPanel === true)
				renderSide();
			if (conv.unread_count && document.visibilityState === "visible")
				markRead();
		} catch (e) {
			// The next change will try again.
		} finally {
			refreshing = false;
			if (again) {
				again = false;
				refresh();
			}
		}
	}

	// A send the worker has not finished: shown at once as queued, gone
	// when its message row arrives, or marked failed with Meta's code
	// and sentence (a refused send has no message row).
	function addPending(row, preview) {
		if (!row || !row.id)
			return refresh();
		const el = h("article", { class: "msg out pending", dataset: { outboxId: row.id } },
		    h("div", { class: "text", dir: "auto" }, preview && preview.type === "text"
		        ? formatText(preview.text) : previewText(preview)),
		    h("footer", { class: "meta" }, h("span", { class: "tick tick-queued", role: "img",
		        title: "Queued", "aria-label": "Queued" }, "◴")));
		list.appendChild(el);
		list.scrollTop = list.scrollHeight;
		pending.set(row.id, el);
		refresh();
	}

	// outbox.created_at is in unix milliseconds, message times in seconds.
	function queuedAt(o) {
		return o.created_at > 1e11 ? Math.floor(o.created_at / 1000) : o.created_at;
	}

	function markFailed(el, o) {
		el.classList.add("failed");
		const f = el.querySelector("footer");
		clear(f).appendChild(h("span", { class: "tick tick-failed", role: "img",
		    title: "Failed", "aria-label": "Failed" }, "!"));
		f.prepend(h("time", { title: fmtFull(queuedAt(o)) }, fmtTime(queuedAt(o))));
		el.insertBefore(h("div", { class: "fail", role: "note" }, "Not sent" +
		    (o.error_code ? ": " + o.error_code : "") +
		    (o.error_title ? " " + o.error_title : "") +
		    (o.error_details ? " (" + o.error_details + ")" : "") + "."), f);
	}

	// Sends Meta refused have no message row: the chat's failed outbox
	// rows (the number's newest 50) are drawn where they were queued.
	async function loadFailed() {
		let r;
		try {
			r = await api("GET", "/outbox?state=failed&limit=50&number=" +
			    encodeURIComponent(conv.phone_number_id));
		} catch (e) {
			return;
		}
		const to = conv.wa_id || conv.phone;
		const times = [...msgs.values()].map((m) => m.timestamp);
		const oldest = times.length ? Math.min(...times) : 0;
		for (const o of r.data.slice().reverse()) {
			if (o.recipient !== to || o.message_id || failed.has(o.id) || pending.has(o.id) ||
			    o.kind === "read" || (older && queuedAt(o) < oldest))
				continue;
			failed.add(o.id);
			const el = h("article", { class: "msg out pending", dataset: { outboxId: o.id } },
			    h("div", { class: "text other-type" }, "A " + o.kind + " message"),
			    h("footer", { class: "meta" }));
			markFailed(el, o);
			let next = null;
			for (const c of list.children) {
				const m = c.dataset.id ? msgs.get(Number(c.dataset.id)) : null;
				if (m && m.timestamp > queuedAt(o)) {
					next = c;
					break;
				}
			}
			list.insertBefore(el, next);
		}
	}

	async function checkPending() {
		for (const [oid, el] of pending) {
			let o;
			try {
				o = await api("GET", "/outbox/" + oid);
			} catch (e) {
				continue;
			}
			if (o.state === "failed") {
				pending.delete(oid);
				failed.add(oid);
				markFailed(el, o);
			} else if (o.state === "cancelled" || (o.wamid && byWamid.has(o.wamid))) {
				pending.delete(oid);
				el.remove();
			}
		}
	}

	async function focusMessage(mid) {
		for (let i = 0; i < 40 && !els.has(mid) && older; i++)
			await loadOlder();
		const el = els.get(mid);
		if (el)
			highlight(el);
	}

	list.addEventListener("scroll", () => {
		if (list.scrollTop < 40 && older && !olderBtn.disabled)
			loadOlder();
	});
	const onDoc = (e) => {
		if (menuOpen && !menuOpen.contains(e.target))
			closeMenu();
	};
	document.addEventListener("click", onDoc);

	first();
	return {
		refresh,
		focusMessage,
		close() {
			closed = true;
			document.removeEventListener("click", onDoc);
			if (composer && composer.close)
				composer.close();
		},
	};
}
