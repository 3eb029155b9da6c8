// admin.js: PLACEHOLDER until the manage helper's admin.js is merged (the
// integrator takes theirs).  Registers the "admin" view.
import { route, h } from "./app.js";

route("admin", (el) => { el.appendChild(h("p", { class: "empty" }, "Admin: not built yet.")); });
