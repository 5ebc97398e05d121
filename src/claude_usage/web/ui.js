// DOM helpers, number formats, tables with sorting and CSV export, cards, pagers.

const locale = navigator.language || undefined;
const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const usd = new Intl.NumberFormat(locale, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
// Times without seconds, in the user's 12/24-hour convention (the locale's).
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(locale, { timeStyle: "short" });

/** ``count`` with its noun, singular or plural: "1 model", "2 models", "1,234 requests". */
export function plural(count, noun, many) {
  return `${integer.format(count)} ${count === 1 ? noun : many || `${noun}s`}`;
}

/** Minutes for people: "42m", "3h 05m", and past 48 hours "14d 21h" (not "357h 13m"). */
export function duration(minutes) {
  if (minutes == null) return "–";
  const total = Math.max(0, Math.round(minutes));
  const hours = Math.floor(total / 60);
  if (hours >= 48) return `${Math.floor(hours / 24)}d ${hours % 24}h`;
  return hours ? `${hours}h ${String(total % 60).padStart(2, "0")}m` : `${total}m`;
}

let countdownTimer = null;

/** The time from now to ``iso`` for people ("1h 20m"; "now" once it has passed). */
function untilText(iso) {
  const minutes = (new Date(iso) - new Date()) / 60000;
  return minutes > 0 ? duration(minutes) : "now";
}

/** A countdown to ``iso`` (an ISO-8601 time): one page-wide timer keeps every countdown shown
 * current (every 15 s), whichever view made it. */
export function countdown(iso, testid) {
  if (!countdownTimer) {
    countdownTimer = setInterval(() => {
      for (const node of document.querySelectorAll("[data-resets-at]")) node.textContent = untilText(node.dataset.resetsAt);
    }, 15000);
  }
  return el("span", { "data-resets-at": iso, "data-testid": testid }, untilText(iso));
}

export const fmt = {
  tokens: (n) => (n == null ? "–" : integer.format(n)),
  number: (n) => (n == null ? "–" : decimal.format(n)),
  // Unknown costs (models without a price) are never shown as $0; money has 2 decimals.
  cost: (n) => (n == null ? "n/a" : usd.format(n)),
  // An average below a cent says so instead of "$0.00".
  costSmall: (n) => (n == null ? "n/a" : n > 0 && n < 0.005 ? "<$0.01" : usd.format(n)),
  percent: (n) => (n == null ? "–" : percent.format(n)),
  change: (n) => (n == null ? "–" : `${n >= 0 ? "+" : "−"}${percent.format(Math.abs(n))}`),
  time: (iso) => (iso ? dateTime.format(new Date(iso)) : "–"),
  clock: (iso) => (iso ? timeOnly.format(new Date(iso)) : "–"),
  date: (iso) => (iso ? dateOnly.format(new Date(iso)) : "–"),
  duration,
};

/** el("div", {class: "x", onclick: f}, child, "text", ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function loading(text = "Loading…") {
  return el("div", { class: "loading", role: "status" }, text);
}

export function emptyState(message) {
  return el("div", { class: "empty" }, message);
}

/** The explanation shown when there is no usage at all. */
export function noDataHelp() {
  return el("div", { class: "empty" },
    el("p", {}, "No Claude Code usage to show yet."),
    el("p", {}, "Start the server on your data with ", el("code", {}, "claude-usage serve --data-dir ~/.claude"),
      " (or the folder that holds your ", el("code", {}, "projects/"), "), or try ",
      el("code", {}, "claude-usage serve --demo"), "."),
    el("p", {}, "If filters are set above, clear them to see everything."));
}

/** Summary cards: ``[label, value, sub, attrs]`` each. Seven or more go in two rows, so that
 * every number has room on a laptop screen; phones get two a row. */
export function cards(items) {
  const perRow = items.length > 6 ? Math.ceil(items.length / 2) : items.length;
  return el("div", { class: "cards", style: `--per-row: ${perRow}` }, items.map(([label, value, sub, attrs]) =>
    el("div", { ...(attrs || {}), class: ["card", attrs?.class].filter(Boolean).join(" ") }, el("div", { class: "label" }, label),
      el("div", { class: "value" }, value), sub ? el("div", { class: "sub" }, sub) : null)));
}

export function panel(title, body, tools = []) {
  return el("section", { class: "panel", "aria-label": title },
    el("div", { class: "panel-head" }, el("h2", {}, title), el("div", { class: "tools" }, tools)), body);
}

function csvCell(value) {
  if (value == null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Download ``rows`` (objects) as CSV with the given columns (raw values, not formatted). */
export function downloadCsv(name, columns, rows) {
  const lines = [columns.map((c) => csvCell(c.label)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c.csv ? c.csv(row) : row[c.key])).join(","));
  const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  const link = el("a", { href: URL.createObjectURL(blob), download: `${name}.csv` });
  document.body.append(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}

/** A column's classes: numbers right-aligned, ``optional`` columns hidden on phones, the cost
 * column marked (``cost``), and (for body cells) long text wrapping. */
function columnClass(column, header = false) {
  const align = column.num ? "num" : column.wrap && !header ? "wrap" : null;
  return [align, column.optional ? "optional" : null, column.cost ? "cost" : null].filter(Boolean).join(" ") || null;
}

/** Text that may wrap after path separators and punctuation, not inside a word. */
export function breakable(value) {
  const text = String(value ?? "");
  const parts = text.split(/(?<=[/\\_.,-])/);
  return parts.length < 2 ? text : parts.flatMap((part, i) => (i ? [el("wbr"), part] : [part]));
}

/**
 * A table of ``rows`` with ``columns`` [{key, label, num, wrap, optional, format(row), csv(row), sort(row)}].
 * Options: ``onRow(row)`` makes rows clickable (and keyboard reachable); ``sort`` "client"
 * (default) sorts in the page, or {key, order, onSort(key)} for server-side sorting; ``footer``
 * is a row object formatted like the others; ``csvName`` adds an "Export CSV" button to ``tools``.
 */
export function table({ columns, rows, onRow, sort = "client", footer, csvName, tools, label }) {
  let state = { key: null, order: "desc" };
  const wrap = el("div", { class: "table-wrap" });
  const server = sort && typeof sort === "object";
  if (server) state = { key: sort.key, order: sort.order };

  function sortedRows() {
    if (server || !state.key) return rows;
    const column = columns.find((c) => c.key === state.key);
    const value = column.sort || ((row) => row[column.key]);
    const sign = state.order === "asc" ? 1 : -1;
    return [...rows].sort((a, b) => {
      const x = value(a), y = value(b);
      if (x == null && y == null) return 0;
      if (x == null) return 1;
      if (y == null) return -1;
      return (x > y ? 1 : x < y ? -1 : 0) * sign;
    });
  }

  function cell(column, row) {
    const value = column.format ? column.format(row) : row[column.key];
    const content = value instanceof Node ? value : column.wrap ? breakable(value) : value ?? "";
    return el("td", { class: columnClass(column) }, content);
  }

  function draw() {
    const head = el("tr", {}, columns.map((column) => {
      const sorted = state.key === column.key ? (state.order === "asc" ? "ascending" : "descending") : null;
      const canSort = column.sortable !== false && sort !== false;
      return el("th", { class: columnClass(column, true), scope: "col", "aria-sort": sorted },
        canSort ? el("button", {
          type: "button",
          onclick: () => {
            if (server) return sort.onSort(column.key);
            state = { key: column.key, order: state.key === column.key && state.order === "desc" ? "asc" : "desc" };
            draw();
          },
        }, column.label) : column.label);
    }));
    const body = el("tbody", {}, sortedRows().map((row) => {
      const tr = el("tr", onRow ? { class: "clickable", tabindex: "0", onclick: () => onRow(row),
        onkeydown: (e) => { if (e.key === "Enter") onRow(row); } } : {}, columns.map((c) => cell(c, row)));
      return tr;
    }));
    const foot = footer ? el("tfoot", {}, el("tr", {}, columns.map((c) => cell(c, footer)))) : null;
    wrap.replaceChildren(el("table", { "aria-label": label || csvName || "table" }, el("thead", {}, head), body, foot));
  }
  draw();
  if (csvName && tools) {
    tools.push(el("button", { type: "button", onclick: () => downloadCsv(csvName, columns, sortedRows()) }, "Export CSV"));
  }
  return wrap;
}

/** Previous/next controls for a ``pagination`` object; ``go(page)`` loads a page. */
export function pager(pagination, go) {
  if (!pagination || pagination.totalPages <= 1) return null;
  return el("div", { class: "pager" },
    el("button", { type: "button", disabled: !pagination.hasPrev, onclick: () => go(pagination.currentPage - 1) }, "‹ Previous"),
    el("span", {}, `Page ${pagination.currentPage} of ${pagination.totalPages} (${fmt.tokens(pagination.totalItems)} items)`),
    el("button", { type: "button", disabled: !pagination.hasNext, onclick: () => go(pagination.currentPage + 1) }, "Next ›"));
}

/** A segmented control: options [[value, label]], the current value, and a change handler. */
export function segmented(options, current, change, label) {
  return el("div", { class: "seg", role: "group", "aria-label": label }, options.map(([value, text]) =>
    el("button", { type: "button", "aria-pressed": String(value === current), onclick: () => change(value) }, text)));
}
