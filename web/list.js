// list.js: the "inbox" view: the chat list (filters, search, paging,
// live updates from GET /changes) beside the open chat (chat.js).
// #/inbox shows the list; #/inbox/ID opens chat ID; #/inbox/ID/m/MSGID
// opens it at message MSGID (a search result).
import { api, h, clear, route, onChanges, fmtTime, fmtFull, numberFilter,
    numberName, numbers } from "./app.js";
import { openChat } from "./chat.js";
import { previewText, tickGlyph } from "./render.js";

const PAGE = 50;

const STATES = [["", "Everyone"], ["bot", "With the bot"], ["person", "Handed to a person"],
    ["unassigned", "Handed over, nobody yet"], ["agent", "With the AI agent"]];

function stateOf(assignee) {
	if (!assignee || assignee === "bot")
		return { key: "bot", text: "Bot" };
	if (assignee === "person")
		return { key: "unassigned", text: "Waiting for a person" };
	if (assignee.startsWith("person:"))
		return { key: "person", text: assignee.slice(7) };
	if (assignee.startsWith("agent"))
		return { key: "agent", text: "AI agent" };
	return { key: "other", text: assignee };
}

function render(container, params) {
	let rows = new Map();          // id -> row object
	let order = [];                // ids in display order
	let nextCursor = null;
	let loading = 0;
	let chat = null;               // the open chat's controller
	let openId = null;
	let labelsKnown = [];

	const q = h("input", { type: "search", id: "chat-search", name: "q",
	    placeholder: "Search chats and messages", "aria-label": "Search chats and messages",
	    autocomplete: "off", maxlength: "100" });
	const unread = h("input", { type: "checkbox", id: "f-unread" });
	const mine = h("input", { type: "checkbox", id: "f-mine" });
	const state = h("select", { id: "f-state", "aria-label": "Who has the chat" },
	    STATES.map(([v, t]) => h("option", { value: v }, t)));
	const label = h("select", { id: "f-label", "aria-label": "Label" },
	    h("option", { value: "" }, "Any label"));
	const windowSel = h("select", { id: "f-window", "aria-label": "24-hour window" },
	    h("option", { value: "" }, "Any window"), h("option", { value: "open" }, "Window open"),
	    h("option", { value: "closed" }, "Window closed"));
	const labelColor = new Map();
	const list = h("ul", { class: "chats", id: "chats", "aria-label": "Chats",
	    "aria-busy": "true" });
	const more = h("button", { type: "button", class: "more", hidden: true,
	    onclick: () => load(true) }, "More chats");
	const status = h("p", { class: "list-status", role: "status" });
	const found = h("section", { class: "found", hidden: true, "aria-label": "Messages found" });
	const filters = h("form", { class: "filters", role: "search",
	    onsubmit: (e) => { e.preventDefault(); reload(); } },
	    q,
	    h("div", { class: "filter-row" },
	        h("label", { class: "check", for: "f-unread" }, unread, " Unread"),
	        h("label", { class: "check", for: "f-mine" }, mine, " Mine"),
	        state, label, windowSel));
	const listPane = h("section", { class: "list-pane", "aria-label": "Chat list" },
	    filters, status, list, more, found);
	const chatPane = h("section", { class: "chat-pane", "aria-label": "Conversation" },
	    h("p", { class: "empty" }, "Choose a chat."));
	const root = h("div", { class: "inbox", dataset: { open: "0" } }, listPane, chatPane);
	container.appendChild(root);

	function query(cursor) {
		const p = new URLSearchParams();
		const n = numberFilter();
		if (n)
			p.append("number", n);
		if (unread.checked)
			p.set("unread", "true");
		if (mine.checked)
			p.set("mine", "true");
		if (state.value)
			p.set("state", state.value);
		if (label.value)
			p.set("label", label.value);
		if (windowSel.value)
			p.set("window", windowSel.value);
		if (q.value.trim())
			p.set("q", q.value.trim());
		p.set("limit", String(PAGE));
		if (cursor)
			p.set("cursor", cursor);
		return "/chats?" + p.toString();
	}

	function rowEl(c) {
		const st = stateOf(c.assignee);
		const name = c.name || ("+" + c.wa_id);
		const pv = c.preview || {};
		const multi = numbers().length > 1;
		const li = h("li", { class: "chat-row" + (c.unread_count > 0 ? " unread" : "") +
		    (c.id === openId ? " current" : ""), dataset: { conversationId: c.id } },
		    h("a", { href: "#/inbox/" + c.id, "aria-current": c.id === openId ? "true" : "false" },
		        h("span", { class: "row-top" },
		            h("span", { class: "name", dir: "auto" }, name),
		            h("time", { class: "when", datetime: c.last_message_at ?
		                new Date(c.last_message_at * 1000).toISOString() : null,
		                title: fmtFull(c.last_message_at) }, fmtTime(c.last_message_at))),
		        h("span", { class: "row-mid" },
		            h("span", { class: "preview", dir: "auto" },
		                pv.direction === "out" ? h("span", { class: "tick tick-" + (pv.status || "accepted"),
		                    title: pv.status || "accepted", role: "img",
		                    "aria-label": pv.status || "accepted" }, tickGlyph(pv.status)) : null,
		                previewText(pv)),
		            c.unread_count > 0 ? h("span", { class: "badge", title: c.unread_count + " unread",
		                "aria-label": c.unread_count + " unread" }, String(c.unread_count)) : null),
		        h("span", { class: "row-bottom" },
		            h("span", { class: "phone" }, "+" + c.wa_id),
		            multi ? h("span", { class: "num" }, c.number_label || numberName(c.phone_number_id)) : null,
		            h("span", { class: "state state-" + st.key, title: "Assignee: " + (c.assignee_name || st.text) },
		                st.key === "person" ? (c.assignee_name || st.text) : st.text),
		            h("span", { class: "window " + (c.window_open ? "open" : "closed"),
		                title: c.window_open ? "24-hour window open until " + fmtFull(c.window_expires_at)
		                    : "24-hour window closed: templates only" },
		                c.window_open ? "Window open" : "Window closed"),
		            c.opted_out ? h("span", { class: "optout" }, "Opted out") : null,
		            (c.labels || []).map(labelChip))));
		return li;
	}

	function labelChip(name) {
		const el = h("span", { class: "label" }, name);
		const color = labelColor.get(name);
		if (color && /^#[0-9a-fA-F]{6}$/.test(color))
			el.style.borderColor = color;      // CSSOM, not a style attribute (CSP)
		return el;
	}

	function paint() {
		clear(list);
		for (const id of order)
			list.appendChild(rowEl(rows.get(id)));
		list.setAttribute("aria-busy", "false");
		status.textContent = order.length ? "" : (loading ? "Loading…" : "No chats match.");
		more.hidden = !nextCursor;
		performance.mark("wa:list-rendered");
	}

	function sortOrder() {
		order.sort((a, b) => {
			const x = rows.get(a), y = rows.get(b);
			return (y.last_message_at || 0) - (x.last_message_at || 0) || b - a;
		});
	}

	async function load(append) {
		loading++;
		const seq = ++loadSeq;
		try {
			const r = await api("GET", query(append ? nextCursor : null));
			if (seq !== loadSeq && !append)
				return;
			if (!append) {
				rows = new Map();
				order = [];
			}
			for (const c of r.data) {
				if (!rows.has(c.id))
					order.push(c.id);
				rows.set(c.id, c);
			}
			nextCursor = r.next_cursor || null;
		} catch (e) {
			status.textContent = "The chats could not be loaded: " + e.message;
			return;
		} finally {
			loading--;
		}
		paint();
	}
	let loadSeq = 0;

	function reload() {
		nextCursor = null;
		list.setAttribute("aria-busy", "true");
		load(false);
		searchMessages();
	}

	// Message full-text search beside the chat search: results open the
	// chat at the message.
	async function searchMessages() {
		const text = q.value.trim();
		clear(found);
		found.hidden = true;
		if (text.length < 2)
			return;
		const p = new URLSearchParams({ q: text, limit: "20" });
		if (numberFilter())
			p.append("number", numberFilter());
		let r;
		try {
			r = await api("GET", "/messages?" + p.toString());
		} catch (e) {
			if (e.code !== "bad_parameter")
				found.appendChild(h("p", { class: "error" }, e.message));
			found.hidden = false;
			return;
		}
		if (text !== q.value.trim())
			return;
		found.appendChild(h("h2", null, "Messages"));
		if (!r.data.length)
			found.appendChild(h("p", { class: "empty" }, "No message matches."));
		found.appendChild(h("ul", { class: "hits" }, r.data.map((m) =>
		    h("li", { class: "hit", dataset: { id: m.id } },
		        h("a", { href: "#/inbox/" + m.conversation_id + "/m/" + m.id },
		            h("span", { class: "row-top" },
		                h("span", { class: "name" }, "+" + (m.phone || "")),
		                h("time", { class: "when", title: fmtFull(m.timestamp) }, fmtTime(m.timestamp))),
		            h("span", { class: "preview", dir: "auto" },
		                m.direction === "out" ? "You: " : "", m.text || "[" + m.type + "]"))))));
		found.hidden = false;
	}

	// Live updates: the changed chats are fetched again with the first
	// page (a changed chat with a new message is on it); a changed row
	// that no longer matches the filters leaves; the open chat refreshes.
	async function changed(ids) {
		const set = new Set(ids);
		if (chat && set.has(openId))
			chat.refresh();
		if (!set.size)
			return;
		let r;
		try {
			r = await api("GET", query(null));
		} catch (e) {
			return;
		}
		const fresh = new Set(r.data.map((c) => c.id));
		const oldest = r.data.length ? r.data[r.data.length - 1].last_message_at : 0;
		for (const c of r.data) {
			if (!rows.has(c.id))
				order.push(c.id);
			rows.set(c.id, c);
		}
		for (const id of set) {
			const c = rows.get(id);
			if (c && !fresh.has(id) && (r.data.length < PAGE || (c.last_message_at || 0) >= oldest)) {
				rows.delete(id);
				order = order.filter((x) => x !== id);
			}
		}
		if (!nextCursor && r.next_cursor && order.length <= r.data.length)
			nextCursor = r.next_cursor;
		sortOrder();
		paint();
	}

	let searchTimer = null;
	q.addEventListener("input", () => {
		clearTimeout(searchTimer);
		searchTimer = setTimeout(reload, 300);
	});
	q.addEventListener("keydown", (e) => {
		if (e.key === "Escape" && q.value) {
			q.value = "";
			reload();
		}
	});
	for (const el of [unread, mine, state, label, windowSel])
		el.addEventListener("change", reload);
	const onNumber = () => reload();
	window.addEventListener("wa:number", onNumber);
	const off = onChanges(changed);

	api("GET", "/labels").then((r) => {
		labelsKnown = (r && r.data) || [];
		for (const l of labelsKnown) {
			label.appendChild(h("option", { value: l.name }, l.name));
			if (l.color)
				labelColor.set(l.name, l.color);
		}
		if (labelColor.size && order.length)
			paint();
	}).catch(() => {});

	function update(p) {
		const id = p[0] ? Number(p[0]) : null;
		const at = p[1] === "m" && p[2] ? Number(p[2]) : null;
		root.dataset.open = id ? "1" : "0";
		if (id === openId && chat) {
			if (at)
				chat.focusMessage(at);
			return;
		}
		if (chat)
			chat.close();
		chat = null;
		openId = id;
		for (const li of list.children) {
			const cur = Number(li.dataset.conversationId) === id;
			li.classList.toggle("current", cur);
			li.firstChild.setAttribute("aria-current", cur ? "true" : "false");
		}
		clear(chatPane);
		if (!id) {
			chatPane.appendChild(h("p", { class: "empty" }, "Choose a chat."));
			return;
		}
		chat = openChat(chatPane, id, { focus: at, onRead: () => {
			const c = rows.get(id);
			if (c && c.unread_count) {
				c.unread_count = 0;
				paint();
			}
		} });
	}

	reload();
	update(params);
	return {
		update,
		cleanup() {
			off();
			window.removeEventListener("wa:number", onNumber);
			if (chat)
				chat.close();
		},
	};
}

route("inbox", render);
