// What the network and member pages share: building elements, reading the
// API, links, times, sortable tables, pagination, the 30-day chart, the URL
// as the page's state (so a link shares the view), and live refresh.
"use strict";

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
};

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  let body;
  try { body = await response.json(); } catch { body = { error: `${path}: ${response.status}` }; }
  return { ok: response.ok, status: response.status, body };
}

// The last path segment: the address the page is about.
const subject = () => decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());

const short = a => (a && a.length > 12 ? `${a.slice(0, 4)}…${a.slice(-4)}` : a ?? "");

// An address shown short, whole in its title, linked when `href` is given.
function addr(address, href) {
  if (!address) return el("span", { class: "muted" }, "none");
  const code = el("code", { title: address }, short(address));
  return href ? el("a", { href, "data-address": address }, code) : code;
}
const memberLink = (member, label) => label
  ? el("a", { href: `/members/${member}`, "data-address": member }, label)
  : addr(member, `/members/${member}`);
const networkLink = (network, name) => el("a", { href: `/networks/${network}` }, name ?? short(network));

// Transactions open in Solana Explorer; `?cluster=devnet` (or a custom RPC
// URL) on this page's address is passed on, so links follow the cluster.
function txLink(signature) {
  const params = new URLSearchParams(location.search);
  const cluster = params.get("cluster");
  let suffix = "";
  if (cluster && /^https?:/.test(cluster)) suffix = `?cluster=custom&customUrl=${encodeURIComponent(cluster)}`;
  else if (cluster) suffix = `?cluster=${encodeURIComponent(cluster)}`;
  return el("a", { href: `https://explorer.solana.com/tx/${signature}${suffix}`, target: "_blank", rel: "noopener", title: signature },
    el("code", {}, short(signature)));
}

// Unix seconds as "2026-01-01 12:00 UTC".
function when(unix) {
  if (!unix) return "";
  return new Date(unix * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

// The page's state lives in its query string: read with defaults, write back
// without reloading (so refresh, back and a shared link keep the view).
function readState(defaults) {
  const params = new URLSearchParams(location.search);
  const state = { ...defaults };
  for (const k of Object.keys(defaults)) {
    if (!params.has(k)) continue;
    state[k] = typeof defaults[k] === "number" ? Math.max(1, parseInt(params.get(k), 10) || defaults[k]) : params.get(k);
  }
  return state;
}
function writeState(state, defaults) {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(state)) {
    if (v === defaults[k] || v === null || v === "") params.delete(k); else params.set(k, v);
  }
  const query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? `?${query}` : ""));
}

// A table: `columns` are {label, key?, num?, sort?}; `rows` are arrays of cells.
// Headers with `sort` are clickable: onSort(key) is called.
function grid(columns, rows, { id, sorted, order, onSort, rowAttrs } = {}) {
  const head = el("tr");
  for (const c of columns) {
    const th = el("th", { class: [c.num ? "num" : "", c.sort ? "sortable" : ""].join(" ").trim() || null, "data-sort": c.sort ?? null }, c.label);
    if (c.sort) {
      th.setAttribute("aria-sort", sorted === c.sort ? (order === "asc" ? "ascending" : "descending") : "none");
      th.tabIndex = 0;
      th.addEventListener("click", () => onSort(c.sort));
      th.addEventListener("keydown", e => { if (e.key === "Enter") onSort(c.sort); });
    }
    head.append(th);
  }
  const table = el("table", { class: "grid", id: id ?? null }, el("thead", {}, head));
  const body = el("tbody");
  rows.forEach((cells, i) => {
    const tr = el("tr", rowAttrs ? rowAttrs(i) : {});
    cells.forEach((cell, j) => {
      const c = columns[j];
      const td = el("td", { class: c.num ? "num" : null, "data-field": c.key ?? null });
      td.append(cell ?? "");
      tr.append(td);
    });
    body.append(tr);
  });
  table.append(body);
  if (rows.length === 0) body.append(el("tr", {}, el("td", { colspan: String(columns.length), class: "muted" }, "none yet")));
  return table;
}

// Previous / next for a paged listing.
function pager({ page, per_page: perPage, total }, go) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const previous = el("button", { type: "button", class: "secondary", "data-page": "previous" }, "← previous");
  const next = el("button", { type: "button", class: "secondary", "data-page": "next" }, "next →");
  previous.disabled = page <= 1;
  next.disabled = page >= pages;
  previous.addEventListener("click", () => go(page - 1));
  next.addEventListener("click", () => go(page + 1));
  return el("div", { class: "pager" }, previous, el("span", { class: "muted", "data-field": "page" }, `page ${page} of ${pages} (${total})`), next);
}

// A decimal string shortened for an axis label (the bars keep the exact value).
const axis = text => { const n = Number(text); return n >= 1000 ? n.toLocaleString("en", { maximumFractionDigits: 0 }) : String(+n.toPrecision(4)); };

// The 30-day chart: one bar per day, a date axis under it and a value axis
// beside it; each bar carries its exact value (data-credited, its title).
function chart(history, unit) {
  const ns = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const [left, top, width, height] = [64, 10, 600, 140];
  const svg = svgEl("svg", { class: "history", width: String(left + width + 10), height: String(top + height + 34),
    viewBox: `0 0 ${left + width + 10} ${top + height + 34}`, role: "img", "aria-label": `credits per day, last ${history.length} days (${unit})` });
  const max = Math.max(...history.map(d => Number(d.credited)), 0);
  for (const f of [0, 0.5, 1]) {
    const y = top + height - f * height;
    svg.append(svgEl("line", { x1: String(left), x2: String(left + width), y1: String(y), y2: String(y) }));
    svg.append(svgEl("text", { x: String(left - 6), y: String(y + 4), "text-anchor": "end", class: "y-label" }, axis(String(max * f))));
  }
  const step = width / Math.max(history.length, 1);
  history.forEach((d, i) => {
    const h = max > 0 ? Math.max(Number(d.credited) > 0 ? 1 : 0, Math.round(height * Number(d.credited) / max)) : 0;
    const bar = svgEl("rect", { class: "bar", x: String(left + i * step + 1), y: String(top + height - h),
      width: String(Math.max(step - 2, 1)), height: String(h), "data-day": d.day, "data-credited": d.credited });
    bar.append(svgEl("title", {}, `${d.day}: ${d.credited} ${unit}`));
    svg.append(bar);
    if (i % 5 === 0 || i === history.length - 1) {
      svg.append(svgEl("text", { x: String(left + i * step + step / 2), y: String(top + height + 16), "text-anchor": "middle", class: "x-label" },
        d.day.slice(5)));
    }
  });
  svg.append(svgEl("text", { x: String(left), y: String(top + height + 32), class: "axis-title" }, `UTC day (${history[0]?.day.slice(0, 4) ?? ""}) · ${unit} credited`));
  return svg;
}

// Call `refresh` whenever the index grows: server-sent events from
// /api/stream, or, where the stream is not served, polling /api/head.
function live(refresh) {
  const badge = document.getElementById("live");
  let last = null;
  const seen = position => {
    if (last !== null && position !== last) refresh();
    last = position;
  };
  const poll = async () => {
    const { ok, body } = await getJson("/api/head").catch(() => ({ ok: false }));
    if (ok) seen(body.position);
    setTimeout(poll, 3000);
  };
  if (!window.EventSource) { poll(); return; }
  const source = new EventSource("/api/stream");
  let opened = false;
  source.addEventListener("open", () => { opened = true; if (badge) { badge.className = "live on"; badge.textContent = "live"; } });
  source.addEventListener("position", e => seen(Number(e.data)));
  source.addEventListener("error", () => {
    if (badge) badge.className = "live";
    // Never opened: this explorer does not stream; poll instead. (Once it
    // has, the browser reconnects by itself.)
    if (!opened) { source.close(); if (badge) badge.textContent = "polling"; poll(); }
  });
}

function fail(box, body) {
  box.textContent = "";
  box.append(el("div", { class: "error", id: "page-error" }, body.error ?? "the explorer did not answer"));
}
