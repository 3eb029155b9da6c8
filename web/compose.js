// compose.js: the reply box of an open chat.  Enter sends, Shift+Enter
// is a new line; "/" at the start offers the quick replies; files are
// checked against Meta's type and size limits before they are uploaded
// (POST /uploads, then POST /send with upload_id); a reply quotes a
// message (reply_to).  With the 24-hour window closed the box is
// disabled with the reason and the approved templates of the chat's
// number are offered instead (POST /send-template).  Viewers get no box.
// renderComposer(box, conv, {onSent(outboxRow, preview)}) ->
//     {update(conv), replyTo(message), close()}
import { api, h, clear, can, toast, fmtSize } from "./app.js";
import { previewText } from "./render.js";

const MB = 1024 * 1024;
// Reference: media types and limits Meta takes.
const KINDS = [
	{ kind: "image", types: ["image/jpeg", "image/png"], max: 5 * MB },
	{ kind: "sticker", types: ["image/webp"], max: 500 * 1024 },
	{ kind: "video", types: ["video/mp4", "video/3gpp"], max: 16 * MB },
	{ kind: "audio", types: ["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"], max: 16 * MB },
	{ kind: "document", types: ["text/plain", "application/pdf", "application/msword",
	    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	    "application/vnd.ms-excel",
	    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    "application/vnd.ms-powerpoint",
	    "application/vnd.openxmlformats-officedocument.presentationml.presentation"], max: 100 * MB },
];

// {kind, max} for a file, or an error sentence.
export function checkFile(file) {
	const type = (file.type || "").toLowerCase();
	const k = KINDS.find((x) => x.types.includes(type));
	if (!k)
		return { error: "WhatsApp does not take " + (type || "this kind of") +
		    " files: send JPEG or PNG images, MP4 video, AAC/MP3/OGG audio, or PDF and Office documents." };
	if (file.size > k.max)
		return { error: file.name + " is " + fmtSize(file.size) + "; WhatsApp takes " + k.kind +
		    "s up to " + fmtSize(k.max) + "." };
	if (file.size === 0)
		return { error: file.name + " is empty." };
	return k;
}

let quickCache = null;

async function quickReplies() {
	if (!quickCache)
		quickCache = api("GET", "/quick-replies").then((r) => (r && r.data) || [])
		    .catch(() => { quickCache = null; return []; });
	return quickCache;
}

function templateParams(t) {
	const body = (t.components || []).find((c) => (c.type || "").toUpperCase() === "BODY");
	const text = (body && body.text) || "";
	let n = 0;
	for (const m of text.matchAll(/\{\{\s*(\d+)\s*\}\}/g))
		n = Math.max(n, Number(m[1]));
	return { text, n };
}

export function renderComposer(box, conv, opts) {
	clear(box);
	quickCache = null;      // read again per chat: others may have added some
	if (!can("agent")) {
		box.appendChild(h("p", { class: "readonly-note" }, "You can read this chat; viewers cannot reply."));
		return { update() {}, replyTo() {}, close() {} };
	}
	let replying = null;
	let sending = false;

	const ta = h("textarea", { id: "compose-text", class: "compose-text", rows: "1",
	    "aria-label": "Message", placeholder: "Type a message", title: "Enter sends, Shift+Enter starts a new line, / offers quick replies",
	    dir: "auto" });
	const send = h("button", { type: "submit", class: "send primary" }, "Send");
	const file = h("input", { type: "file", id: "compose-file", class: "file-input",
	    accept: KINDS.flatMap((k) => k.types).join(",") });
	const attach = h("label", { for: "compose-file", class: "attach button", title: "Attach a file" },
	    h("span", { "aria-hidden": "true", class: "attach-icon" }, "+"), h("span", { class: "sr-only" }, "Attach a file"));
	const reason = h("p", { class: "closed-reason", id: "compose-reason", role: "status" });
	const replyBar = h("div", { class: "reply-bar", hidden: true });
	const quick = h("ul", { class: "quick", role: "listbox", id: "quick-list",
	    "aria-label": "Quick replies", hidden: true });
	const err = h("p", { class: "error", role: "alert" });
	const tplBox = h("div", { class: "templates", hidden: true });
	const form = h("form", { class: "composer", "aria-label": "Reply",
	    onsubmit: (e) => { e.preventDefault(); sendText(); } },
	    replyBar, quick,
	    h("div", { class: "compose-row" }, attach, file, ta, send),
	    reason, err);
	box.appendChild(form);
	box.appendChild(tplBox);

	function to() {
		return conv.wa_id || conv.phone;
	}

	function setReply(m) {
		replying = m;
		clear(replyBar);
		replyBar.hidden = !m;
		if (m) {
			replyBar.appendChild(h("span", { class: "reply-label" }, "Replying to: "));
			replyBar.appendChild(h("span", { class: "reply-text", dir: "auto" },
			    previewText({ type: m.type, text: m.text }) || "a message"));
			replyBar.appendChild(h("button", { type: "button", class: "link",
			    "aria-label": "Cancel the reply", onclick: () => { setReply(null); ta.focus(); } }, "✕"));
		}
	}

	async function sendText() {
		const text = ta.value;
		if (sending || !text.trim() || ta.disabled)
			return;
		sending = true;
		send.disabled = true;
		err.textContent = "";
		const body = { to: to(), from: conv.phone_number_id, type: "text", text: { body: text } };
		if (replying)
			body.reply_to = replying.wamid;
		try {
			const r = await api("POST", "/send", body);
			ta.value = "";
			setReply(null);
			grow();
			opts.onSent && opts.onSent(r, { type: "text", text });
		} catch (e) {
			err.textContent = "Not sent: " + e.message;
		} finally {
			sending = false;
			send.disabled = ta.disabled;
			ta.focus();
		}
	}

	async function sendFile(f) {
		const k = checkFile(f);
		err.textContent = "";
		if (k.error) {
			err.textContent = k.error;
			return;
		}
		attach.classList.add("busy");
		try {
			const p = new URLSearchParams({ filename: f.name, number: conv.phone_number_id });
			const up = await api("POST", "/uploads?" + p.toString(), f);
			const body = { to: to(), from: conv.phone_number_id, type: up.kind || k.kind, upload_id: up.id };
			const caption = ta.value.trim();
			if (caption && body.type !== "audio" && body.type !== "sticker")
				body.caption = caption;
			if (replying)
				body.reply_to = replying.wamid;
			const r = await api("POST", "/send", body);
			if (body.caption)
				ta.value = "";
			setReply(null);
			opts.onSent && opts.onSent(r, { type: body.type, text: f.name });
			toast(f.name + " is on its way.");
		} catch (e) {
			err.textContent = f.name + " was not sent: " + e.message;
		} finally {
			attach.classList.remove("busy");
			file.value = "";
		}
	}

	// Quick replies: "/" then a few letters filters them; arrows move,
	// Enter or Tab inserts, Escape closes.
	let qItems = [], qIndex = 0;
	async function showQuick() {
		const v = ta.value;
		if (!v.startsWith("/") || v.includes("\n")) {
			hideQuick();
			return;
		}
		const word = v.slice(1).toLowerCase();
		const all = await quickReplies();
		qItems = all.filter((x) => (x.shortcut || x.name || x.title || "").toLowerCase().includes(word) ||
		    (x.text || "").toLowerCase().includes(word)).slice(0, 8);
		clear(quick);
		if (!qItems.length) {
			hideQuick();
			return;
		}
		qIndex = Math.min(qIndex, qItems.length - 1);
		qItems.forEach((x, i) => quick.appendChild(h("li", { role: "option", id: "quick-" + i,
		    "aria-selected": i === qIndex ? "true" : "false", class: i === qIndex ? "active" : "",
		    onmousedown: (e) => { e.preventDefault(); pickQuick(i); } },
		    h("strong", null, "/" + (x.shortcut || x.name || x.title || "")), " ", x.text || "")));
		quick.hidden = false;
		ta.setAttribute("aria-activedescendant", "quick-" + qIndex);
	}
	function hideQuick() {
		quick.hidden = true;
		qItems = [];
		qIndex = 0;
		ta.removeAttribute("aria-activedescendant");
	}
	function pickQuick(i) {
		const x = qItems[i];
		if (!x)
			return;
		ta.value = x.text || "";
		hideQuick();
		grow();
		ta.focus();
	}

	function grow() {
		ta.style.height = "auto";
		ta.style.height = Math.min(ta.scrollHeight, 160) + "px";
	}

	ta.addEventListener("input", () => {
		grow();
		showQuick();
	});
	ta.addEventListener("keydown", (e) => {
		if (!quick.hidden && qItems.length) {
			if (e.key === "ArrowDown" || e.key === "ArrowUp") {
				e.preventDefault();
				qIndex = (qIndex + (e.key === "ArrowDown" ? 1 : qItems.length - 1)) % qItems.length;
				showQuick();
				return;
			}
			if (e.key === "Enter" || e.key === "Tab") {
				e.preventDefault();
				pickQuick(qIndex);
				return;
			}
			if (e.key === "Escape") {
				e.preventDefault();
				hideQuick();
				return;
			}
		}
		if (e.key === "Escape" && replying) {
			e.preventDefault();
			setReply(null);
			return;
		}
		if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			sendText();
		}
	});
	file.addEventListener("change", () => {
		if (file.files && file.files[0])
			sendFile(file.files[0]);
	});

	// Templates for a closed window: the number's approved ones.
	let tplLoaded = null;
	async function showTemplates() {
		tplBox.hidden = false;
		if (tplLoaded === conv.phone_number_id)
			return;
		tplLoaded = conv.phone_number_id;
		clear(tplBox);
		tplBox.appendChild(h("p", { class: "loading" }, "Loading templates…"));
		let list = [];
		try {
			const p = new URLSearchParams({ number: conv.phone_number_id, status: "APPROVED", limit: "200" });
			const r = await api("GET", "/templates?" + p.toString());
			list = ((r && r.data) || []).filter((t) => t.status === "APPROVED");
		} catch (e) {
			clear(tplBox).appendChild(h("p", { class: "error" }, "Templates could not be loaded: " + e.message));
			tplLoaded = null;
			return;
		}
		clear(tplBox);
		if (!list.length) {
			tplBox.appendChild(h("p", { class: "empty" },
			    "This number has no approved template; sync or create one first."));
			return;
		}
		const sel = h("select", { id: "tpl-pick", "aria-label": "Template" },
		    h("option", { value: "" }, "Choose a template…"),
		    list.map((t, i) => h("option", { value: String(i) }, t.name + " (" + t.language + ")")));
		const fields = h("div", { class: "tpl-fields" });
		const preview = h("p", { class: "tpl-preview", dir: "auto" });
		const tErr = h("p", { class: "error", role: "alert" });
		const go = h("button", { type: "submit", class: "primary", disabled: true }, "Send template");
		const tform = h("form", { class: "tpl-form", "aria-label": "Send a template" },
		    h("h3", null, "Send a template"), sel, preview, fields, go, tErr);
		sel.addEventListener("change", () => {
			clear(fields);
			tErr.textContent = "";
			const t = list[Number(sel.value)];
			go.disabled = !t;
			preview.textContent = t ? templateParams(t).text : "";
			if (!t)
				return;
			const n = templateParams(t).n;
			for (let i = 1; i <= n; i++) {
				const fid = "tpl-param-" + i;
				fields.appendChild(h("label", { for: fid }, "Parameter {{" + i + "}}"));
				fields.appendChild(h("input", { id: fid, name: "p" + i, type: "text", required: true,
				    class: "tpl-param" }));
			}
		});
		tform.addEventListener("submit", async (e) => {
			e.preventDefault();
			const t = list[Number(sel.value)];
			if (!t)
				return;
			go.disabled = true;
			tErr.textContent = "";
			const params = [...fields.querySelectorAll("input")].map((x) => x.value);
			try {
				const r = await api("POST", "/send-template", { to: to(), from: conv.phone_number_id,
				    name: t.name, language: t.language, body_parameters: params });
				toast("Template " + t.name + " is on its way.");
				sel.value = "";
				clear(fields);
				preview.textContent = "";
				opts.onSent && opts.onSent(r, { type: "template", text: t.name });
			} catch (err2) {
				tErr.textContent = "Not sent: " + err2.message;
				go.disabled = false;
			}
		});
		tplBox.appendChild(tform);
	}

	function update(c) {
		conv = c;
		const open = typeof c.window_open === "boolean" ? c.window_open
		    : !!c.window_expires_at && c.window_expires_at * 1000 > Date.now();
		const optedOut = !!c.opted_out;
		ta.disabled = !open || optedOut;
		send.disabled = ta.disabled;
		file.disabled = ta.disabled;
		attach.classList.toggle("disabled", ta.disabled);
		if (optedOut) {
			reason.textContent = "This customer opted out of messages: nothing can be sent.";
		} else if (!open) {
			reason.textContent = "The 24-hour window is closed: the customer has not written in the last " +
			    "24 hours, so only an approved template can be sent.";
		} else {
			reason.textContent = "";
		}
		if (ta.disabled) {
			ta.setAttribute("aria-describedby", "compose-reason");
			ta.placeholder = "Replies are closed";
		} else {
			ta.removeAttribute("aria-describedby");
			ta.placeholder = "Type a message";
		}
		if (!open && !optedOut)
			showTemplates();
		else
			tplBox.hidden = true;
	}

	update(conv);
	return {
		update,
		replyTo(m) {
			setReply(m);
			ta.focus();
		},
		close() {},
	};
}
