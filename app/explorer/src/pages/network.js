// The network page: heading, solvency per ledger, promotion, leaderboard,
// members (paged, sortable) and tables versions. Page, sort and ledger live
// in the address, so a link shares the view and a refresh keeps it.
"use strict";
(() => {
  const network = subject();
  const defaults = { page: 1, per_page: 25, sort: "join", order: "asc", ledger: "", board: "" };
  const state = readState(defaults);
  const $ = id => document.getElementById(id);

  function heading(body) {
    document.title = `${body.name} · Upline explorer`;
    const box = $("heading");
    box.textContent = "";
    box.append(el("h1", { id: "network-name" }, body.name),
      el("div", { class: "facts" },
        el("span", {}, "network ", addr(body.address)),
        el("span", {}, "admin ", addr(body.admin)),
        el("span", {}, el("b", { id: "member-count" }, String(body.members)), " members"),
        el("span", {}, "classes ", el("b", {}, body.classes.join(", ") || "?")),
        el("span", {}, `tables v${body.tables_version}, reward tables v${body.reward_tables_version}`),
        body.paused ? el("span", { class: "badge warn", id: "paused" }, "paused") : el("span", { class: "badge ok" }, "running"),
        el("span", { class: "muted" }, "newest event ", when(body.last_event_at))));
  }

  function solvency(rows) {
    const box = $("solvency-box");
    box.className = "";
    box.textContent = "";
    const status = s => {
      if (s.kind === "points" || s.vault === null) return el("span", { class: "badge" }, "points: not withdrawable");
      if (s.covered === true) return el("span", { class: "badge ok" }, "covered");
      if (s.covered === false) return el("span", { class: "badge warn" }, "short");
      return el("span", { class: "badge warn" }, "inconsistent");
    };
    const dash = v => v ?? "—";
    box.append(grid([
      { label: "ledger", key: "ledger" }, { label: "funded", key: "funded", num: true },
      { label: "paid out", key: "paid-out", num: true }, { label: "owed to members", key: "owed", num: true },
      { label: "in the vault", key: "vault", num: true }, { label: "coverage", key: "coverage", num: true },
      { label: "", key: "status" },
    ], rows.map(s => [s.ledger, s.vault === null ? "—" : s.funded, s.vault === null ? "—" : s.paid_out, dash(s.owed),
      dash(s.vault), s.coverage, status(s)]),
    { id: "solvency", rowAttrs: i => ({ "data-ledger": rows[i].ledger }) }),
    el("div", { class: "muted" }, "Owed: what was credited to members less what they withdrew (the sum of their balances). Coverage: the vault over what is owed, rounded down."));
  }

  function promotion(p) {
    const box = $("promotion");
    box.className = "";
    box.textContent = "";
    if (p.state === "none") { box.append(el("span", { class: "muted", "data-state": "none" }, "No promotion window set.")); return; }
    const badge = { open: "badge ok", scheduled: "badge", ended: "badge warn" }[p.state];
    box.append(el("span", { class: badge, id: "promotion-state", "data-state": p.state }, p.state),
      ` ${p.rate_percent}% rental commission for every referrer, from ${when(p.start)} to ${when(p.end)}`);
  }

  function versions(list) {
    const box = $("tables-box");
    // A refresh keeps open the versions the reader opened.
    const opened = new Set([...box.querySelectorAll("details[open]")].map(d => d.dataset.version));
    box.className = "";
    box.textContent = "";
    box.append(grid([
      { label: "tables", key: "kind" }, { label: "version", key: "version", num: true },
      { label: "time", key: "time" }, { label: "transaction", key: "signature" }, { label: "", key: "tables" },
    ], list.map(v => [v.kind, String(v.version), when(v.time), txLink(v.signature),
      el("details", { "data-version": `${v.kind}/${v.version}`, open: opened.has(`${v.kind}/${v.version}`) ? "" : null },
        el("summary", {}, "show"), el("pre", {}, JSON.stringify(v.tables, null, 2)))]),
    { id: "tables-versions" }));
  }

  // A ledger picker bound to state[key].
  function picker(target, ledgers, key, onChange) {
    const box = $(target);
    box.textContent = "";
    if (ledgers.length < 2) return;
    const select = el("select", { "aria-label": "ledger", "data-ledger-picker": key });
    for (const l of ledgers) select.append(el("option", { value: l.name }, l.name));
    select.value = state[key] || ledgers[0].name;
    select.addEventListener("change", () => { state[key] = select.value; onChange(); });
    box.append("ledger ", select);
  }

  async function leaderboard() {
    const box = $("leaderboard-box");
    const ledger = state.board ? `&ledger=${encodeURIComponent(state.board)}` : "";
    const { ok, body } = await getJson(`/api/networks/${network}/leaderboard?limit=10${ledger}`);
    box.className = "";
    box.textContent = "";
    if (!ok) { fail(box, body); return; }
    box.append(grid([
      { label: "#", num: true }, { label: "member", key: "wallet" }, { label: "class", key: "class" },
      { label: "referrals", key: "referrals", num: true }, { label: `referral earnings (${body.ledger ?? ""})`, key: "referral", num: true },
    ], body.leaders.map(l => [String(l.rank), memberLink(l.member, el("code", { title: l.wallet }, short(l.wallet))), l.class,
      String(l.referrals), l.referral]),
    { id: "leaderboard", rowAttrs: i => ({ "data-member": body.leaders[i].member }) }));
  }

  function sortBy(key) {
    if (state.sort === key) state.order = state.order === "asc" ? "desc" : "asc";
    else { state.sort = key; state.order = key === "join" ? "asc" : "desc"; }
    state.page = 1;
    members();
  }

  async function members() {
    writeState(state, defaults);
    const box = $("members-box");
    const q = new URLSearchParams({ page: state.page, per_page: state.per_page, sort: state.sort, order: state.order });
    if (state.ledger) q.set("ledger", state.ledger);
    const { ok, body } = await getJson(`/api/networks/${network}/members?${q}`);
    box.className = "";
    box.textContent = "";
    if (!ok) { fail(box, body); return; }
    const ledger = body.ledger;
    const amount = (m, k) => ledger ? m.totals[ledger]?.[k] ?? "0" : "";
    box.append(grid([
      { label: "#", key: "join", num: true, sort: "join" }, { label: "wallet", key: "wallet" },
      { label: "class", key: "class" }, { label: "referrer", key: "referrer" },
      { label: "downline (1 / 2 / 3)", key: "downline", num: true, sort: "downline" },
      { label: `balance ${ledger ?? ""}`, key: "balance", num: true, sort: "balance" },
      { label: `referral ${ledger ?? ""}`, key: "referral", num: true, sort: "referral" },
    ], body.members.map(m => [String(m.join_ordinal), memberLink(m.member, el("code", { title: m.wallet }, short(m.wallet))),
      m.class, m.referrer_member ? memberLink(m.referrer_member, el("code", { title: m.referrer ?? "" }, short(m.referrer ?? m.referrer_member))) : el("span", { class: "muted" }, "none"),
      m.downline.join(" / "), amount(m, "balance"), amount(m, "referral")]),
    { id: "members", sorted: body.sort, order: body.order, onSort: sortBy, rowAttrs: i => ({ "data-member": body.members[i].member }) }),
    pager(body, page => { state.page = page; members(); }));
  }

  async function refresh() {
    const { ok, body } = await getJson(`/api/networks/${network}`);
    if (!ok) {
      fail($("heading"), body);
      for (const id of ["solvency-box", "promotion", "leaderboard-box", "members-box", "tables-box"]) $(id).textContent = "";
      return;
    }
    heading(body);
    solvency(body.solvency);
    promotion(body.promotion);
    versions(body.tables_versions);
    picker("leaderboard-ledger", body.ledgers, "board", () => { writeState(state, defaults); leaderboard(); });
    picker("members-ledger", body.ledgers, "ledger", () => { state.page = 1; members(); });
    await Promise.all([leaderboard(), members()]);
  }

  refresh();
  live(refresh);
})();
