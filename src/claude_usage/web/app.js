// The dashboard: routes in the URL hash (#/view/key?filters), global filters, live updates.

import { el, loading } from "./ui.js";
import { views, tabs } from "./views.js";
import { teamView } from "./team.js";

const FILTERS = ["startDate", "endDate", "tz", "project", "model", "mode", "user", "machine"];
const LOCAL_ONLY = ["tools", "logs", "todos"];  // views of this machine's files: not on a team server
let teamMode = false;
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const main = document.getElementById("main");
const banner = document.getElementById("banner");
const notice = document.getElementById("notice");
const stamp = document.getElementById("stamp");
let generation = 0;
let lastRoute = "";

/** The current route: {view, key, params}. */
export function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?");
  const [view, ...rest] = path.split("/");
  const params = Object.fromEntries(new URLSearchParams(query));
  return { view: views[view] ? view : "summary", key: rest.length ? decodeURIComponent(rest.join("/")) : null, params };
}

/** Go to a view (keeps the global filters unless ``params`` replace them). */
export function go(view, key = null, params = {}) {
  const current = route().params;
  const merged = {};
  for (const name of FILTERS) if (current[name]) merged[name] = current[name];
  Object.assign(merged, params);
  for (const [name, value] of Object.entries(merged)) if (value === "" || value == null) delete merged[name];
  if (merged.tz === browserZone) delete merged.tz;
  const query = new URLSearchParams(merged).toString();
  location.hash = `#/${view}${key != null ? "/" + encodeURIComponent(key) : ""}${query ? "?" + query : ""}`;
}

/** Change parameters of the current view (e.g. its page or sort order). */
export function setParams(params) {
  const { view, key, params: current } = route();
  go(view, key, { ...current, ...params });
}

function filterParams() {
  const { params } = route();
  const out = { tz: params.tz || browserZone };
  for (const name of FILTERS) if (name !== "tz" && params[name]) out[name] = params[name];
  return out;
}

export function showError(message) {
  banner.replaceChildren(el("strong", {}, "Can't load data. "), message, " ",
    el("button", { type: "button", onclick: () => render() }, "Retry"));
  banner.hidden = false;
}

function clearError() {
  banner.hidden = true;
}

/**
 * GET an API path as JSON. ``withFilters`` adds the global filters; a 404 resolves to null
 * (the view says what is missing); other failures show the error banner and reject.
 */
export async function api(path, params = {}, withFilters = true) {
  const query = new URLSearchParams({ ...(withFilters ? filterParams() : {}), ...params });
  for (const [name, value] of [...query.entries()]) if (value === "" || value === "undefined") query.delete(name);
  let response;
  try {
    response = await fetch(`${path}${query.toString() ? "?" + query : ""}`, { headers: { Accept: "application/json" } });
  } catch (error) {
    showError(`The claude-usage server does not answer (${error.message}). Is it still running?`);
    throw error;
  }
  if (response.status === 404) return null;
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).message || message; } catch { /* not JSON */ }
    showError(message);
    throw new Error(message);
  }
  return response.json();
}

/** Flag models without a price (from any response's ``unpricedModels``). */
export function flagUnpriced(models) {
  if (models && models.length) {
    notice.replaceChildren(`Costs exclude the requests of ${models.length} model(s) without a price: ${models.join(", ")}. ` +
      "Their tokens are counted; add their rates with ", el("code", { class: "nowrap" }, "--prices FILE"), ".");
    notice.hidden = false;
  }
}

function updateStamp() {
  stamp.textContent = `updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
}

/** Draw the current view; ``quiet`` keeps the old content until the new one is ready. */
export async function render(quiet = false) {
  const mine = ++generation;
  const { view, key, params } = route();
  const routeId = `${view}/${key}`;
  if (!quiet || routeId !== lastRoute) main.replaceChildren(loading());
  lastRoute = routeId;
  notice.hidden = true;
  for (const link of document.querySelectorAll("#tabs a")) {
    link.setAttribute("aria-current", link.dataset.view === view ? "page" : "false");
  }
  syncControls();
  try {
    const content = await views[view].render({ key, params, api, go, setParams, flagUnpriced });
    if (mine !== generation) return;
    main.replaceChildren(content);
    clearError();
    updateStamp();
  } catch (error) {
    if (mine !== generation) return;
    if (!main.querySelector(".panel, .cards")) main.replaceChildren(el("div", { class: "empty" }, "Nothing to show: the data could not be loaded."));
    console.warn(error);
  }
}

// -- global controls -------------------------------------------------------------------------

const controls = Object.fromEntries(FILTERS.map((name) => [name, document.getElementById(name)]));

function syncControls() {
  const { params } = route();
  for (const name of FILTERS) {
    const value = name === "tz" ? params.tz || browserZone : params[name] || (name === "mode" ? "auto" : "");
    if (controls[name].tagName === "SELECT" && value && ![...controls[name].options].some((o) => o.value === value)) {
      controls[name].append(el("option", { value }, value));
    }
    controls[name].value = value;
  }
}

function fillZones() {
  let zones = [];
  try { zones = Intl.supportedValuesOf("timeZone"); } catch { zones = ["UTC"]; }
  if (!zones.includes("UTC")) zones.unshift("UTC");
  if (!zones.includes(browserZone)) zones.unshift(browserZone);
  controls.tz.replaceChildren(...zones.map((zone) => el("option", { value: zone }, zone === browserZone ? `${zone} (this browser)` : zone)));
}

async function fillTeamChoices() {
  const team = await api("/api/v2/users", {}, false);
  controls.user.replaceChildren(el("option", { value: "" }, "All users"),
    ...(team?.users || []).map((u) => el("option", { value: u.user }, u.user)));
  controls.machine.replaceChildren(el("option", { value: "" }, "All machines"),
    ...(team?.machines || []).map((m) => el("option", { value: m.machineId }, `${m.machine} (${m.user})`)));
}

async function fillChoices() {
  try {
    if (teamMode) await fillTeamChoices();
    const [projects, models] = await Promise.all([
      api("/api/v2/projects", { limit: 200, sortBy: "name", sortOrder: "asc" }, false),
      api("/api/v2/models", { sortBy: "model", sortOrder: "asc" }, false),
    ]);
    controls.project.replaceChildren(el("option", { value: "" }, "All projects"),
      ...(projects?.data || []).map((p) => el("option", { value: p.name }, p.path || p.name)));
    controls.model.replaceChildren(el("option", { value: "" }, "All models"),
      ...(models?.data || []).map((m) => el("option", { value: m.model }, m.model)));
    syncControls();
  } catch { /* the banner says it */ }
}

for (const name of FILTERS) {
  controls[name].addEventListener("change", () => setParams({ [name]: controls[name].value, page: "" }));
}
document.getElementById("clear").addEventListener("click", () => {
  const { view, key } = route();
  location.hash = `#/${view}${key != null ? "/" + encodeURIComponent(key) : ""}`;
});

async function refreshNow() {
  try { await fetch("/api/v2/refresh", { method: "POST" }); } catch { /* shown by render */ }
  render(true);
}
document.getElementById("refresh").addEventListener("click", refreshNow);
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
  if (event.key === "r" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) refreshNow();
});

// -- live updates ------------------------------------------------------------------------------

function listen() {
  const source = new EventSource("/api/v2/events");
  let lost = false;
  source.onopen = () => {
    stamp.classList.add("live");
    if (lost) { lost = false; render(true); fillChoices(); }  // back after an outage
  };
  source.onmessage = () => { render(true); fillChoices(); };
  source.onerror = () => {
    lost = true;
    stamp.classList.remove("live");
    showError("Lost the connection to the claude-usage server; live updates will resume when it is back.");
  };
}

/** A team server (serve --team): the Team view and the user and machine filters; the views of
 * one machine's files go. */
function enterTeamMode(team) {
  teamMode = true;
  for (const name of LOCAL_ONLY) delete views[name];
  views.team = { label: "Team", render: teamView };
  for (const label of document.querySelectorAll(".team-only")) label.hidden = false;
  document.getElementById("origin").textContent =
    `Tokens and costs pushed by ${team.machines} machine(s) of ${team.users} user(s) to the team database`;
}

/** Say where the data come from when they are not the user's own (the demo data, a team). */
async function showSource() {
  try {
    const health = await api("/api/health", {}, false);
    if (health?.team) enterTeamMode(health.team);
    const box = document.getElementById("source-notice");
    if (health?.demo) {
      box.replaceChildren(el("strong", {}, "Demo data. "), health.notice || "These are the bundled demo data (--demo), not your own.",
        " To see your own usage, start the server on the machine where Claude Code keeps its transcripts, or with ",
        el("code", { class: "nowrap" }, "--data-dir DIR"), ".");
      box.hidden = false;
    }
  } catch { /* the banner says it */ }
}

fillZones();
window.addEventListener("hashchange", () => render());
document.addEventListener("claude-usage:rerender", () => render(true));  // a view changed a setting
showSource().then(() => {
  tabs(document.getElementById("tabs"), (view) => go(view));
  render();
  fillChoices();
  listen();
});
