// The package end to end against `upline sandbox`: wallets join under a
// referrer and link later from TypeScript, the oracle (the CLI) records work,
// a wallet reads its stats (the same object `upline member stats --json`
// prints), claims to its associated token account, and a claim below the
// minimum comes back as the program's `BelowMinimum`. Every transaction is
// sent with @solana/kit's sendAndConfirmTransactionFactory, so confirmation
// goes through the sandbox's PubSub signatureSubscribe.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Address } from '@solana/kit';
import { fetchToken } from '@solana-program/token';
import {
    claim,
    connect,
    fetchReferralStats,
    join,
    labelText,
    ledgerAddress,
    loadNetwork,
    memberAddress,
    networkAddress,
    readMember,
    setReferrer,
    uplineOf,
    UplineProgramError,
    vaultAddress,
    type UplineClient,
} from '../src/index.js';
import { compute, Sandbox } from './harness.js';

let s: Sandbox;
let client: UplineClient;
let network: Address;
const w: Record<string, Address> = {};

before(async () => {
    s = await Sandbox.start('client');
    for (const name of ['admin', 'oracle', 'alice', 'bob', 'carol', 'dan']) w[name] = s.wallet(name);
    network = s.init('cxmpute', w['oracle']!);
    client = connect(s.url);
});

after(() => s?.stop());

/** The CLI's stats with what only the CLI adds (claimable now, unopened ledgers) left out. */
function cliStats(wallet: Address): unknown {
    const all = s.stats(network, wallet);
    for (const m of all.memberships) {
        delete m['unopened_ledgers'];
        for (const l of m['ledgers'] as Record<string, unknown>[]) {
            for (const key of ['min_withdrawal', 'claimable', 'claimable_note']) delete l[key];
        }
    }
    return all;
}

test('the PDAs are the addresses the program created', async () => {
    assert.equal(await networkAddress(w['admin']!, 'cxmpute'), network);
    const view = await loadNetwork(client.rpc, network);
    assert.deepEqual(
        view.ledgers.map((l) => labelText(l.ledger.name)),
        ['CXPT', 'POINTS'],
    );
    const cxpt = view.ledgers[0]!;
    assert.equal(cxpt.address, await ledgerAddress(network, 0));
    assert.equal(cxpt.ledger.vault, await vaultAddress(cxpt.address));
});

test('join under a referrer, link later, and walk the stored upline', async () => {
    const provider = 'provider';
    const alice = await join(client, { network, wallet: await s.signer('alice'), className: provider });
    assert.deepEqual(alice.upline, []);
    const bob = await join(client, {
        network,
        wallet: await s.signer('bob'),
        className: provider,
        referrer: w['alice'],
    });
    assert.deepEqual(bob.upline, [alice.member]);
    const carol = await join(client, {
        network,
        wallet: await s.signer('carol'),
        className: provider,
        referrer: w['bob'],
    });
    assert.deepEqual(carol.upline, [bob.member, alice.member]);

    // dan joins without a code, then links under carol: three levels above him.
    const dan = await join(client, { network, wallet: await s.signer('dan'), className: provider });
    const linked = await setReferrer(client, { network, wallet: await s.signer('dan'), referrer: w['carol']! });
    assert.deepEqual(linked.upline, [carol.member, bob.member, alice.member]);
    const stored = await readMember(client.rpc, dan.member);
    assert.ok(stored);
    assert.deepEqual(
        (await uplineOf(client.rpc, stored)).map((u) => u.member.wallet),
        [w['carol'], w['bob'], w['alice']],
    );
    assert.equal(dan.member, await memberAddress(network, w['dan']!, 1));

    // Links are permanent: the program refuses by name, and nothing changes.
    await assert.rejects(
        setReferrer(client, { network, wallet: await s.signer('dan'), referrer: w['alice']! }),
        (e: unknown) => e instanceof UplineProgramError && e.errorName === 'ReferrerAlreadySet' && e.code === 6004,
    );
    assert.equal((await readMember(client.rpc, dan.member))?.referrer, carol.member);
    // A code that names no membership is refused before anything is sent.
    await assert.rejects(
        join(client, { network, wallet: await s.signer('oracle'), className: provider, referrer: w['admin'] }),
        /UnknownReferrer/,
    );
});

test('stats after the oracle records work are the CLI stats, exactly', async () => {
    s.ok('oracle', ['oracle', 'attest', 'provider', '--network', network, '--wallet', w['bob']!, '--vram-mb', '24576']);
    let reports = '';
    for (let id = 1; id <= 30; id++) reports += compute(id, w['bob']!, 'llama3-70b');
    s.ok('oracle', ['oracle', 'submit', s.write('reports.jsonl', reports), '--network', network]);

    const bob = await fetchReferralStats(client.rpc, network, w['bob']!);
    const alice = await fetchReferralStats(client.rpc, network, w['alice']!);
    // 30 reports of 0.375 CXPT; alice earns 10% of each at level 1.
    assert.equal(bob.memberships[0]?.ledgers[0]?.totals.work, '11.25');
    assert.equal(alice.memberships[0]?.ledgers[0]?.rewards_by_level.level1, '1.125');
    assert.equal(bob.memberships[0]?.referrer, w['alice']);
    assert.equal(bob.memberships[0]?.device_tier, 4);
    assert.equal(alice.memberships[0]?.downline.total, 3);
    for (const name of ['alice', 'bob', 'carol', 'dan']) {
        assert.deepEqual(await fetchReferralStats(client.rpc, network, w[name]!), cliStats(w[name]!), name);
    }
});

test('claim pays the associated token account; below the minimum is BelowMinimum', async () => {
    s.ok('admin', ['network', 'fund', '--network', network, '--ledger', 'CXPT', '--amount', '100', '--mint-first']);
    const bob = await s.signer('bob');
    const paid = await claim(client, { network, wallet: bob, ledger: 'CXPT', amount: '10' });
    assert.equal(paid.amount, 10_000_000_000n);
    assert.equal((await fetchToken(client.rpc, paid.destination)).data.amount, 10_000_000_000n);
    const totals = () =>
        fetchReferralStats(client.rpc, network, w['bob']!).then((t) => t.memberships[0]?.ledgers[0]?.totals);
    assert.deepEqual([(await totals())?.withdrawn, (await totals())?.balance], ['10', '1.25']);

    // The ledger's minimum is 1 CXPT: 0.5 is refused by name, and nothing moves.
    await assert.rejects(claim(client, { network, wallet: bob, ledger: 'CXPT', amount: '0.5' }), (e: unknown) => {
        assert.ok(e instanceof UplineProgramError, String(e));
        assert.equal(e.errorName, 'BelowMinimum');
        assert.equal(e.message, "claim 0.5 CXPT: below this ledger's minimum of 1 CXPT (BelowMinimum)");
        return true;
    });
    assert.equal((await totals())?.balance, '1.25');
    assert.equal((await fetchToken(client.rpc, paid.destination)).data.amount, 10_000_000_000n);

    // A second claim finds the token account in place (created idempotently).
    const rest = await claim(client, { network, wallet: bob, ledger: 'CXPT', amount: '1.25' });
    assert.equal((await fetchToken(client.rpc, rest.destination)).data.amount, 11_250_000_000n);
    assert.equal((await totals())?.balance, '0');
    // Points are not withdrawable: said before anything is sent.
    await assert.rejects(claim(client, { network, wallet: bob, ledger: 'POINTS' }), /NotWithdrawable/);
});
