// The member page: who the membership is, per ledger the cards (earned,
// referral share, balance, claimable now), the levels and the 30-day chart,
// then its referees (paged) and its credits (newest first, CSV export).
// Ledgers with nothing on them are folded into one line.
"use strict";
(() => {
  const member = subject();
  const defaults = { page: 1, per_page: 25 };
  const state = readState(defaults);
  const $ = id => document.getElementById(id);
  let before = null; // the credits page shown: null for the newest
  const newer = [];  // the pages before it, to go back

  const sources = { work: "own work", level1: "level 1", level2: "level 2", level3: "level 3", bonus: "direct bonus" };

  function heading(m) {
    document.title = `${short(m.wallet)} in ${m.network_name} · Upline explorer`;
    const box = $("heading");
    box.textContent = "";
    box.append(el("h1", {}, el("code", { id: "member-wallet" }, m.wallet)),
      el("div", { class: "facts" },
        el("span", {}, el("b", { id: "member-class" }, m.class), " in ", networkLink(m.network, m.network_name)),
        el("span", {}, "member account ", addr(m.member)),
        el("span", { id: "member-referrer" }, "referred by ", m.referrer_member
          ? memberLink(m.referrer_member, el("code", { title: m.referrer ?? "" }, short(m.referrer ?? m.referrer_member)))
          : el("span", { class: "muted" }, "nobody")),
        el("span", {}, `joined #${m.join_ordinal}, ${when(m.joined_at)}`),
        el("span", {}, `downline ${m.downline.level1} / ${m.downline.level2} / ${m.downline.level3}`),
        el("span", {}, `${m.reports} reports`),
        m.frozen ? el("span", { class: "badge warn", id: "frozen" }, "frozen") : null,
        m.paused ? el("span", { class: "badge warn" }, "network paused") : null));
  }

  const card = (name, label, value, note) => el("div", { class: "card", "data-card": name },
    el("div", { class: "label" }, label), el("div", { class: "value" }, value), note ? el("div", { class: "note" }, note) : null);

  function ledger(l) {
    const t = l.totals;
    const claim = l.claimable;
    const share = t.referral_share === "n/a" ? "n/a" : `${t.referral_share}%`;
    const levels = grid([
      { label: "level", key: "level" }, { label: "referees", key: "referees", num: true }, { label: "brought", key: "brought", num: true },
    ], [...l.levels.map(v => [`level ${v.level}`, String(v.referees), v.brought]), ["direct bonus", "", l.bonus]],
    { rowAttrs: i => ({ "data-level": i < 3 ? String(i + 1) : "bonus" }) });
    const history = l.history
      ? el("div", {}, el("h3", {}, "Last 30 days"), chart(l.history, l.ledger))
      : el("div", { class: "muted" }, "no account snapshot for the chart yet");
    return el("section", { class: "ledger", "data-ledger": l.ledger },
      el("h2", {}, `${l.ledger} `, el("span", { class: "badge" }, l.kind)),
      el("div", { class: "cards" },
        card("earned", "earned", t.earned),
        card("referral-share", "referral share", share),
        card("balance", "balance", t.balance),
        claim ? card("claimable", "claimable now", claim.amount, claim.note) : card("claimable", "claimable now", "—", "not snapshotted yet")),
      el("div", { class: "columns" }, el("div", {}, el("h3", {}, "By level"), levels), history));
  }

  function ledgers(m) {
    const box = $("ledgers");
    const unfolded = $("empty-ledgers")?.open ?? false; // a refresh keeps it as the reader left it
    box.textContent = "";
    const full = m.ledgers.filter(l => !l.empty);
    const empty = m.ledgers.filter(l => l.empty);
    for (const l of full) box.append(ledger(l));
    if (full.length === 0) box.append(el("section", {}, el("span", { class: "muted" }, "Nothing credited to this membership yet.")));
    if (empty.length > 0) {
      box.append(el("details", { id: "empty-ledgers", open: unfolded ? "" : null },
        el("summary", {}, `${empty.length} ledger${empty.length > 1 ? "s" : ""} with nothing on ${empty.length > 1 ? "them" : "it"}: ${empty.map(l => l.ledger).join(", ")}`),
        ...empty.map(ledger)));
    }
  }

  async function referees() {
    writeState(state, defaults);
    const box = $("referees-box");
    const { ok, body } = await getJson(`/api/members/${member}/referees?page=${state.page}&per_page=${state.per_page}`);
    box.className = "";
    box.textContent = "";
    if (!ok) { fail(box, body); return; }
    const names = body.referees.length ? Object.keys(body.referees[0].contribution) : [];
    box.append(grid([
      { label: "#", key: "join", num: true }, { label: "wallet", key: "wallet" }, { label: "class", key: "class" },
      { label: "joined", key: "joined" }, { label: "their downline", key: "downline", num: true },
      ...names.map(n => ({ label: `brought ${n}`, key: `contribution-${n}`, num: true })),
    ], body.referees.map(r => [String(r.join_ordinal), memberLink(r.member, el("code", { title: r.wallet }, short(r.wallet))),
      r.class, when(r.joined_at), r.downline.join(" / "), ...names.map(n => r.contribution[n])]),
    { id: "referees", rowAttrs: i => ({ "data-member": body.referees[i].member, "data-wallet": body.referees[i].wallet }) }),
    el("div", { class: "muted" }, "Brought: what each referee's own reports credited this member."),
    pager(body, page => { state.page = page; referees(); }));
  }

  async function credits() {
    const box = $("credits-box");
    const cursor = before ? `&before=${encodeURIComponent(before)}` : "";
    const { ok, body } = await getJson(`/api/members/${member}/credits?limit=25${cursor}`);
    box.className = "";
    box.textContent = "";
    if (!ok) { fail(box, body); return; }
    const from = c => c.origin === member ? el("span", { class: "muted" }, "own")
      : memberLink(c.origin, el("code", { title: c.origin_wallet ?? c.origin }, short(c.origin_wallet ?? c.origin)));
    box.append(grid([
      { label: "time", key: "time" }, { label: "ledger", key: "ledger" }, { label: "source", key: "source" },
      { label: "amount", key: "amount", num: true }, { label: "from", key: "origin" }, { label: "transaction", key: "signature" },
    ], body.credits.map(c => [when(c.time), c.ledger ?? String(c.ledger_index), (sources[c.source] ?? c.source) + (c.withheld ? " (withheld)" : ""),
      c.amount, from(c), txLink(c.signature)]),
    { id: "credits", rowAttrs: i => ({ "data-signature": body.credits[i].signature, "data-source": body.credits[i].source }) }));
    const back = el("button", { type: "button", class: "secondary", "data-page": "newer" }, "← newer");
    const on = el("button", { type: "button", class: "secondary", "data-page": "older" }, "older →");
    back.disabled = newer.length === 0;
    on.disabled = !body.next;
    back.addEventListener("click", () => { before = newer.pop() ?? null; credits(); });
    on.addEventListener("click", () => { newer.push(before); before = body.next; credits(); });
    box.append(el("div", { class: "pager" }, back, on));
  }

  async function refresh() {
    const { ok, body } = await getJson(`/api/members/${member}`);
    if (!ok) {
      fail($("heading"), body);
      for (const id of ["referees-box", "credits-box"]) $(id).textContent = "";
      return;
    }
    heading(body);
    ledgers(body);
    const csv = $("csv-export");
    csv.href = `/api/members/${member}/credits.csv`;
    csv.setAttribute("download", `upline-credits-${body.network_name}-${body.wallet}.csv`.replace(/[^A-Za-z0-9._-]/g, "_"));
    await Promise.all([referees(), credits()]);
  }

  refresh();
  live(refresh);
})();
