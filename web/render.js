// render.js: messages as DOM.  WhatsApp formatting (*bold*, _italic_,
// ~strike~, ```mono```) and links are built as elements and text nodes
// only: nothing from a message is ever parsed as HTML, and only http(s)
// URLs become links (rel=noopener noreferrer, target=_blank).
import { h, fmtTime, fmtFull, fmtSize } from "./app.js";

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAIL = /[.,!?;:)\]}'"»”’]+$/;
const PH = "\uE000";             // placeholder of a link inside formatting
const TAGS = { "*": "strong", "_": "em", "~": "s" };
const SPACE = /\s/;
const EDGE = /[\s\p{P}\p{S}]/u;

// The URL if it is a plain http(s) one, else null.
export function safeUrl(s) {
	try {
		const u = new URL(s);
		return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
	} catch (e) {
		return null;
	}
}

function closing(s, ch, from) {
	for (let k = from; k < s.length; k++) {
		if (s[k] === "\n")
			return -1;
		if (s[k] === ch && !SPACE.test(s[k - 1]) &&
		    (k + 1 === s.length || EDGE.test(s[k + 1])))
			return k;
	}
	return -1;
}

// Formatting of one stretch without mono blocks; links are PH+index.
function inline(s, links) {
	const out = [];
	let buf = "";
	const flush = () => {
		if (!buf)
			return;
		const parts = buf.split(PH);
		out.push(parts[0]);
		for (let i = 1; i < parts.length; i++) {
			const m = /^(\d+);/.exec(parts[i]);
			if (!m) {
				out.push(parts[i]);
				continue;
			}
			const url = links[Number(m[1])];
			out.push(h("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, url));
			out.push(parts[i].slice(m[0].length));
		}
		buf = "";
	};
	for (let i = 0; i < s.length;) {
		const ch = s[i];
		if (TAGS[ch] && (i === 0 || EDGE.test(s[i - 1])) && i + 1 < s.length &&
		    !SPACE.test(s[i + 1]) && s[i + 1] !== ch) {
			const j = closing(s, ch, i + 2);
			if (j > i + 1) {
				flush();
				out.push(h(TAGS[ch], null, inline(s.slice(i + 1, j), links)));
				i = j + 1;
				continue;
			}
		}
		buf += ch;
		i++;
	}
	flush();
	return out;
}

// WhatsApp-formatted text as a list of nodes (for h()'s children).
export function formatText(text) {
	if (text === null || text === undefined)
		return [];
	const links = [];
	let s = String(text).replaceAll(PH, "\uFFFD");
	s = s.replace(URL_RE, (m) => {
		const trail = (TRAIL.exec(m) || [""])[0];
		const url = safeUrl(m.slice(0, m.length - trail.length));
		if (!url)
			return m;
		links.push(m.slice(0, m.length - trail.length));
		return PH + (links.length - 1) + ";" + trail;
	});
	const out = [];
	const parts = s.split("```");
	for (let i = 0; i < parts.length; i++) {
		// Odd parts sit between ``` pairs; a last unpaired one is text.
		if (i % 2 === 1 && i < parts.length - 1)
			out.push(h("code", { class: "mono" }, parts[i].replace(new RegExp(PH + "(\\d+);", "g"),
			    (m, n) => links[Number(n)])));
		else
			out.push(...inline((i % 2 === 1 ? "```" : "") + parts[i], links));
	}
	return out;
}

export function mediaUrl(m) {
	return "/api/whatsapp/messages/" + encodeURIComponent(m.id) + "/media";
}

const TYPE_NAMES = { image: "Photo", video: "Video", audio: "Audio", voice: "Voice message",
    document: "Document", sticker: "Sticker", location: "Location", contacts: "Contact",
    interactive: "Answer", button: "Button", reaction: "Reaction", order: "Order",
    template: "Template", system: "System message", unsupported: "Unsupported message" };

// The chat list's preview of a last message: {direction, type, text, status}.
export function previewText(pv) {
	if (!pv || !pv.type)
		return "";
	if (pv.type === "revoke" || pv.type === "deleted")
		return "Deleted a message";
	if (pv.type === "edit")
		return "Edited a message" + (pv.text ? ": " + pv.text : "");
	if (pv.type === "reaction")
		return "Reacted" + (pv.text ? " " + pv.text : "");
	if (pv.type === "text" || !TYPE_NAMES[pv.type])
		return pv.text || (pv.type === "text" ? "" : "[" + pv.type + "]");
	return TYPE_NAMES[pv.type] + (pv.text ? ": " + pv.text : "");
}

const TICKS = { queued: "◴", accepted: "◴", sent: "✓", delivered: "✓✓", read: "✓✓",
    played: "✓✓", failed: "!" };
const TICK_WORDS = { queued: "Queued", accepted: "Accepted by WhatsApp", sent: "Sent",
    delivered: "Delivered", read: "Read", played: "Played", failed: "Failed" };

export function tickGlyph(status) {
	return TICKS[status || "accepted"] || "?";
}

export function ticks(m) {
	const st = m.status || "accepted";
	let title = TICK_WORDS[st] || st;
	if (st === "failed")
		title = "Failed" + (m.error_code ? " (" + m.error_code + ")" : "") +
		    (m.error_title ? ": " + m.error_title : "");
	return h("span", { class: "tick tick-" + st, title, role: "img", "aria-label": title },
	    TICKS[st] || "?");
}

function sentBy(m) {
	const s = m.sent_by;
	if (!s)
		return null;
	const who = s.kind === "bot" ? "Bot" : s.kind === "api" ? "API" : (s.name || "a person");
	return h("span", { class: "by by-" + s.kind }, who);
}

function quoted(m, ctx) {
	if (!m.context_wamid)
		return null;
	const q = ctx.byWamid(m.context_wamid);
	const text = q ? (q.revoked_at ? "Deleted message" : previewText({ type: q.type, text: q.text }))
	    : "An earlier message";
	return h("button", { type: "button", class: "quote", title: "Go to the quoted message",
	    onclick: () => ctx.scrollTo(m.context_wamid) },
	    h("span", { class: "quote-who" }, q ? (q.direction === "out" ? "You" : (ctx.name || "Customer")) : ""),
	    h("span", { class: "quote-text", dir: "auto" }, text));
}

function osmLink(lat, lon) {
	const a = Number(lat), o = Number(lon);
	if (!Number.isFinite(a) || !Number.isFinite(o))
		return null;
	const la = a.toFixed(6), lo = o.toFixed(6);
	return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=16/" + la + "/" + lo;
}

function textBlock(text, cls) {
	if (text === null || text === undefined || text === "")
		return null;
	return h("div", { class: cls || "text", dir: "auto" }, formatText(text));
}

function body(m) {
	const url = mediaUrl(m);
	switch (m.type) {
	case "text":
		return [textBlock(m.text)];
	case "image":
	case "sticker":
		return [h("a", { class: "media-link", href: url, target: "_blank", rel: "noopener noreferrer",
		    title: "Open the " + (m.type === "sticker" ? "sticker" : "image") },
		    h("img", { class: m.type, src: url, loading: "lazy", alt: m.text ||
		        (m.type === "sticker" ? "Sticker" : "Image") + " from the chat",
		        onerror: (e) => e.target.replaceWith(h("span", { class: "media-missing" },
		            "The file is not downloaded yet.")) })),
		    textBlock(m.text, "caption")];
	case "video":
		return [h("video", { class: "video", controls: true, preload: "none", src: url,
		    "aria-label": "Video" + (m.text ? ": " + m.text : "") }), textBlock(m.text, "caption")];
	case "audio":
	case "voice":
		return [h("audio", { class: "audio", controls: true, preload: "none", src: url,
		    "aria-label": "Audio message" })];
	case "document": {
		const size = m.media_size ?? m.file_size ?? m.size;
		return [h("div", { class: "doc" },
		    h("span", { class: "kind" }, "Document"),
		    h("span", { class: "doc-name", dir: "auto" }, m.filename || "Document"),
		    size ? h("span", { class: "doc-size" }, fmtSize(size)) : null,
		    h("span", { class: "doc-type" }, (m.mime_type || "").split(";")[0]),
		    h("a", { class: "download", href: url, download: m.filename || "document",
		        "aria-label": "Download " + (m.filename || "the document") }, "Download")),
		    textBlock(m.text, "caption")];
	}
	case "location": {
		const link = osmLink(m.latitude, m.longitude);
		return [h("div", { class: "location" },
		    h("span", { class: "kind" }, "Location"),
		    m.location_name ? h("strong", { dir: "auto" }, m.location_name) : null,
		    m.location_address ? h("span", { class: "loc-address", dir: "auto" }, m.location_address) : null,
		    m.latitude !== null && m.latitude !== undefined ?
		        h("span", { class: "loc-coords" }, Number(m.latitude).toFixed(6) + ", " +
		            Number(m.longitude).toFixed(6)) : null,
		    link ? h("a", { href: link, target: "_blank", rel: "noopener noreferrer" },
		        "Open the map") : null)];
	}
	case "contacts":
		return [h("div", { class: "contact-card" },
		    h("span", { class: "kind" }, "Contact"),
		    h("span", { dir: "auto" }, m.text || "A contact"),
		    (m.contacts || []).map((c) => h("span", { class: "contact-phone" },
		        ((c.phones || []).map((p) => p.phone).join(", ")))))];
	case "interactive":
	case "button": {
		if (m.flow_reply && typeof m.flow_reply === "object") {
			const f = m.flow_reply;
			const resp = f.response && typeof f.response === "object" ? f.response : {};
			return [h("div", { class: "answer" }, h("span", { class: "kind" }, "Form sent"),
			    h("dl", { class: "flow" }, Object.keys(resp).filter((k) => k !== "flow_token").map((k) =>
			        [h("dt", null, k), h("dd", { dir: "auto" }, typeof resp[k] === "string" ?
			            resp[k] : JSON.stringify(resp[k]))])))];
		}
		return [h("div", { class: "answer" },
		    h("span", { class: "kind" }, m.type === "button" ? "Tapped" : "Chose"),
		    h("span", { class: "answer-title", dir: "auto" }, m.reply_title || m.text || ""),
		    m.reply_id ? h("span", { class: "answer-id", title: "Option id" }, m.reply_id) : null)];
	}
	case "order": {
		const o = m.order || {};
		const items = o.product_items || o.items || [];
		return [h("div", { class: "order" }, h("strong", null, "Order"),
		    items.length ? h("ul", null, items.map((it) => h("li", null,
		        (it.quantity || 1) + " × " + (it.product_retailer_id || it.name || "item") +
		        (it.item_price ? " @ " + it.item_price + " " + (it.currency || "") : "")))) : null),
		    textBlock(m.text)];
	}
	case "template":
		return [h("div", { class: "template-tag" }, "Template"), textBlock(m.text)];
	case "unsupported":
		return [h("div", { class: "unsupported" }, "This message type is not supported by WhatsApp's API" +
		    (m.error_code ? " (" + m.error_code + (m.error_title ? ": " + m.error_title : "") + ")" : "") + ".")];
	default:
		return [h("div", { class: "other-type" }, "[" + m.type + "]"), textBlock(m.text)];
	}
}

// One message element.  ctx: byWamid(wamid) -> row, reactions(wamid) ->
// [{emoji, direction}], scrollTo(wamid), name, menu(m) -> element or null.
export function renderMessage(m, ctx) {
	if (m.type === "system")
		return h("div", { class: "msg system", dataset: { wamid: m.wamid, id: m.id }, role: "note" },
		    h("span", { dir: "auto" }, m.text || "System message"),
		    " ", h("time", { title: fmtFull(m.timestamp) }, fmtTime(m.timestamp)));
	const out = m.direction === "out";
	const el = h("article", { class: "msg " + (out ? "out" : "in") + " type-" + m.type +
	    (m.revoked_at ? " revoked" : "") + (m.status === "failed" ? " failed" : ""),
	    dataset: { wamid: m.wamid, id: m.id }, tabindex: "-1",
	    "aria-label": (out ? "Sent" : "Received") + " " + fmtFull(m.timestamp) });
	if (m.forwarded)
		el.appendChild(h("div", { class: "forwarded" }, m.forwarded > 1 ? "Forwarded many times" : "Forwarded"));
	el.appendChild(quoted(m, ctx) || document.createTextNode(""));
	if (m.revoked_at) {
		el.appendChild(h("div", { class: "deleted" }, "This message was deleted."));
	} else {
		for (const n of body(m))
			if (n)
				el.appendChild(n);
	}
	if (m.status === "failed" && out)
		el.appendChild(h("div", { class: "fail", role: "note" }, "Not delivered" +
		    (m.error_code ? ": " + m.error_code : "") + (m.error_title ? " " + m.error_title : "") + "."));
	const rs = ctx.reactions(m.wamid);
	if (rs.length)
		el.appendChild(h("div", { class: "reactions", "aria-label": "Reactions" },
		    rs.map((r) => h("span", { class: "reaction " + r.direction,
		        title: (r.direction === "out" ? "You" : (ctx.name || "Customer")) + " reacted " + r.emoji },
		        r.emoji))));
	el.appendChild(h("footer", { class: "meta" },
	    out ? sentBy(m) : null,
	    m.edited_at && !m.revoked_at ? h("span", { class: "edited",
	        title: "Edited " + fmtFull(m.edited_at) + (m.original_text !== null && m.original_text !== undefined
	            ? "; before: " + m.original_text : "") }, "edited") : null,
	    h("time", { datetime: new Date(m.timestamp * 1000).toISOString(), title: fmtFull(m.timestamp) },
	        fmtTime(m.timestamp)),
	    out ? ticks(m) : null));
	const menu = ctx.menu ? ctx.menu(m) : null;
	if (menu)
		el.appendChild(menu);
	return el;
}
