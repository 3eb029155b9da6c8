// ops.js: PLACEHOLDER until the manage helper's ops.js is merged (the
// integrator takes theirs).  Registers the "ops" and "stats" views.
import { route, h } from "./app.js";

route("ops", (el) => { el.appendChild(h("p", { class: "empty" }, "Operations: not built yet.")); });
route("stats", (el) => { el.appendChild(h("p", { class: "empty" }, "Statistics: not built yet.")); });
