// panel.js: PLACEHOLDER until the manage helper's panel.js is merged (the
// integrator takes theirs).  renderPanel(container, conversation, ctx),
// ctx = {api, session, refresh()}.
import { h } from "./app.js";

export function renderPanel(container, conversation) {
	container.appendChild(h("section", { class: "panel-placeholder", "aria-label": "Contact" },
	    h("h2", null, conversation.name || conversation.phone || conversation.wa_id || ""),
	    h("p", null, conversation.phone || conversation.wa_id || "")));
}
