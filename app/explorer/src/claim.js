// The dashboard's claim panel: connect a Wallet Standard wallet, see what each
// membership can claim now, claim it, see the signature and the new balances.
"use strict";
(() => {
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  };
  const $ = id => document.getElementById(id);

  // Wallet discovery. This is the Wallet Standard's window-event protocol, the
  // one @wallet-standard/app's getWallets() implements: the app announces
  // itself with `wallet-standard:app-ready` (detail: {register}) and answers
  // every `wallet-standard:register-wallet` (detail: a callback) by calling the
  // callback with {register}. It is written out here rather than bundled: it is
  // these two events, and the dashboard is one static page embedded in the
  // explorer's binary with no JavaScript build step to keep in step with npm.
  const wallets = [];
  const api = Object.freeze({
    register(...added) {
      for (const w of added) if (!wallets.includes(w)) wallets.push(w);
      renderWallets();
      return () => {
        for (const w of added) { const i = wallets.indexOf(w); if (i >= 0) wallets.splice(i, 1); }
        renderWallets();
      };
    },
  });
  window.addEventListener("wallet-standard:register-wallet", ({ detail: callback }) => {
    try { callback(api); } catch (e) { console.error("a wallet failed to register", e); }
  });
  window.dispatchEvent(new CustomEvent("wallet-standard:app-ready", { detail: api }));

  const signer = w => w.features["solana:signTransaction"] ?? w.features["solana:signAndSendTransaction"];
  const usable = w => w.features["standard:connect"] && signer(w);

  let connected = null; // {wallet, account}
  let listing = false;
  const results = new Map(); // "network/class/ledger" → the last claim's outcome node

  function renderWallets() {
    const box = $("wallet-list");
    box.textContent = "";
    box.hidden = !listing;
    if (!listing) return;
    if (wallets.length === 0) {
      box.append(el("div", { class: "muted" }, "No wallet found. Install a Solana wallet that supports the Wallet Standard (Phantom, Solflare, Backpack…) and reload."));
      return;
    }
    for (const w of wallets) {
      const ok = usable(w);
      const button = el("button", { type: "button", class: "wallet-option", "data-wallet": w.name },
        el("img", { src: w.icon, alt: "" }), w.name);
      if (!ok) { button.disabled = true; button.title = "this wallet cannot sign Solana transactions"; }
      button.addEventListener("click", () => connect(w));
      box.append(button);
    }
  }

  function status(text, cls = "muted") {
    const box = $("wallet-status");
    box.className = cls;
    box.textContent = text;
  }

  async function connect(wallet) {
    listing = false;
    renderWallets();
    status(`Connecting to ${wallet.name}…`);
    try {
      const { accounts } = await wallet.features["standard:connect"].connect();
      const account = accounts[0] ?? wallet.accounts[0];
      if (!account) throw new Error("it shared no account");
      connected = { wallet, account };
      wallet.features["standard:events"]?.on("change", ({ accounts: now }) => {
        if (!connected || connected.wallet !== wallet || !now) return;
        if (now.length === 0) disconnect(); else { connected.account = now[0]; showClaims(); }
      });
      $("connect-wallet").hidden = true;
      await showClaims();
    } catch (e) {
      status(`${wallet.name} did not connect: ${e.message ?? e}`, "error");
    }
  }

  async function disconnect() {
    const wallet = connected?.wallet;
    connected = null;
    results.clear();
    $("claims").textContent = "";
    $("connect-wallet").hidden = false;
    status("Disconnected.");
    try { await wallet?.features["standard:disconnect"]?.disconnect(); } catch (_) { /* the wallet's own business */ }
  }

  async function json(path, options) {
    const response = await fetch(path, options);
    const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
    return { ok: response.ok, body };
  }

  async function showClaims() {
    const { wallet, account } = connected;
    const { ok, body } = await json(`/api/wallet/${encodeURIComponent(account.address)}/claims`);
    const box = $("claims");
    box.textContent = "";
    status("");
    const who = el("div", { class: "connected" },
      el("img", { src: wallet.icon, alt: "" }),
      el("span", {}, wallet.name),
      el("code", { id: "connected-address" }, account.address));
    const off = el("button", { type: "button", class: "secondary", id: "disconnect-wallet" }, "Disconnect");
    off.addEventListener("click", disconnect);
    who.append(off);
    box.append(who);
    if (!ok) { box.append(el("div", { class: "error" }, body.error)); return; }
    if (body.memberships.length === 0) {
      box.append(el("div", { class: "muted", id: "no-memberships" }, "This wallet holds no membership in the networks this explorer indexes."));
    }
    for (const m of body.memberships) box.append(membership(m));
    for (const u of body.unreadable) box.append(el("div", { class: "error" }, `network ${u.network}: ${u.error}`));
  }

  function membership(m) {
    const card = el("div", { class: "membership-claims", "data-network-name": m.network_name, "data-class": m.class });
    card.append(el("h3", {}, `${m.network_name} — ${m.class}`));
    const heads = [["Ledger", ""], ["Balance", "num"], ["Minimum", "num"], ["Claimable now", "num"],
      ["In your wallet", "num"], ["Amount", "num"], ["", ""]];
    const table = el("table", { class: "claims" }, el("tr", {}, ...heads.map(([h, c]) => el("th", { class: c }, h))));
    const outcomes = el("div", { class: "claim-outcomes" });
    for (const l of m.ledgers) {
      const key = `${m.network}/${m.class_index}/${l.index}`;
      const row = el("tr", { "data-ledger": l.ledger });
      const token = l.kind === "token";
      const claimable = el("td", { class: "num", "data-field": "claimable" }, token ? l.claimable : "—");
      if (l.note) claimable.append(el("div", { class: "note" }, l.note));
      row.append(el("td", {}, el("strong", {}, l.ledger), token ? "" : el("span", { class: "muted" }, " points")),
        el("td", { class: "num", "data-field": "balance" }, l.balance),
        el("td", { class: "num", "data-field": "min" }, token ? l.min_withdrawal : "—"),
        claimable,
        el("td", { class: "num", "data-field": "in-wallet" }, token ? l.in_wallet : "—"));
      if (token) {
        const start = l.claimable !== "0" ? l.claimable : l.balance;
        const amount = el("input", { class: "amount", value: start, inputmode: "decimal", autocomplete: "off", "aria-label": `${l.ledger} to claim` });
        const button = el("button", { type: "button", class: "claim" }, "Claim");
        button.addEventListener("click", () => claim(m, l, amount, button, key));
        row.append(el("td", { class: "num" }, amount), el("td", {}, button));
      } else {
        row.append(el("td", {}), el("td", {}));
      }
      table.append(row);
      if (results.has(key)) outcomes.append(results.get(key));
    }
    card.append(table, outcomes);
    return card;
  }

  // One outcome per ledger, under its membership's table; kept across refreshes.
  function place(card, key, node) {
    results.set(key, node);
    const old = document.querySelector(`.claim-outcomes [data-key="${CSS.escape(key)}"]`);
    if (old) old.replaceWith(node); else card.querySelector(".claim-outcomes").append(node);
  }

  async function claim(m, l, input, button, key) {
    const { wallet, account } = connected;
    const amount = input.value.trim() || "all";
    const pending = text => el("div", { class: "claim-pending", "data-key": key, "data-ledger": l.ledger }, text);
    const failed = error => el("div", { class: "claim-error", "data-key": key, "data-ledger": l.ledger }, error);
    const card = button.closest(".membership-claims");
    const show = (k, node) => place(card, k, node);
    button.disabled = true;
    show(key, pending(`Preparing the claim of ${amount} ${l.ledger}…`));
    try {
      const query = new URLSearchParams({ wallet: account.address, network: m.network, class: m.class_index, ledger: l.index, amount });
      const built = await json(`/api/claim/transaction?${query}`);
      if (!built.ok) { show(key, failed(built.body.error)); button.disabled = false; return; }
      const transaction = fromBase64(built.body.transaction);
      let answer;
      if (wallet.features["solana:signTransaction"]) {
        show(key, pending(`Approve the claim in ${wallet.name}…`));
        const [{ signedTransaction }] = await wallet.features["solana:signTransaction"]
          .signTransaction({ account, transaction, chain: m.chain });
        show(key, pending("Sending, waiting for confirmation…"));
        answer = await json("/api/claim/send", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ transaction: toBase64(signedTransaction) }),
        });
      } else {
        show(key, pending(`Approve and send the claim in ${wallet.name}…`));
        const [{ signature }] = await wallet.features["solana:signAndSendTransaction"]
          .signAndSendTransaction({ account, transaction, chain: m.chain });
        show(key, pending("Waiting for confirmation…"));
        query.set("signature", base58(signature));
        answer = await json(`/api/claim/status?${query}`);
      }
      if (!answer.ok) { show(key, failed(answer.body.error)); button.disabled = false; return; }
      const a = answer.body;
      const done = el("div", { class: "claim-done", "data-key": key, "data-ledger": l.ledger },
        el("div", {}, el("strong", {}, a.claimed ? `Claimed ${a.claimed} ${a.ledger}.` : `Claim of ${a.ledger} confirmed.`)),
        el("div", {}, "Signature ", el("code", { "data-field": "signature" }, a.signature)),
        el("div", {}, "In your wallet now: ", el("span", { "data-field": "in-wallet-after" }, `${a.in_wallet} ${a.ledger}`),
          " · balance left to claim: ", el("span", { "data-field": "balance-after" }, `${a.balance} ${a.ledger}`)));
      results.set(key, done);
      await showClaims();
    } catch (e) {
      show(key, failed(`${wallet.name}: ${e.message ?? e}`));
      button.disabled = false;
    }
  }

  const fromBase64 = text => Uint8Array.from(atob(text), c => c.charCodeAt(0));
  const toBase64 = bytes => btoa(String.fromCharCode(...bytes));
  const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  function base58(bytes) {
    let n = 0n;
    for (const b of bytes) n = n * 256n + BigInt(b);
    let out = "";
    while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n; }
    for (const b of bytes) { if (b !== 0) break; out = "1" + out; }
    return out;
  }

  $("connect-wallet").addEventListener("click", () => { listing = !listing; renderWallets(); });
})();
