// Anchor's own TypeScript client against `upline sandbox`, built from the
// committed idl/upline.json unmodified: web3.js `Connection` (HTTP and the
// PubSub WebSocket), `program.account.member.fetch` and `.all()` with memcmp
// filters (getProgramAccounts), `.rpc()` with confirmation, `.simulate()`
// refused with the program's named error, and the events of a transaction
// decoded from getTransaction (emit_cpi! events are inner instructions).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import anchor from '@anchor-lang/core';
import type { Idl } from '@anchor-lang/core';
import { REPO, Sandbox } from './harness.js';

const { AnchorProvider, BN, Program, web3 } = anchor;
type PublicKey = InstanceType<typeof web3.PublicKey>;
type Keypair = InstanceType<typeof web3.Keypair>;

const idl = JSON.parse(readFileSync(join(REPO, 'idl', 'upline.json'), 'utf8')) as Idl;
/** Anchor's `emit_cpi!` instruction tag: sha256("anchor:event")[..8], little-endian. */
const EVENT_IX_TAG = Buffer.from([0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d]);
/** The parts of web3.js's PubSub client (rpc-websockets) the teardown uses. */
type RpcWebSocket = {
    socket?: { readyState: number };
    once(event: 'close', listener: (code: number) => void): void;
    close(): void;
    setAutoReconnect(on: boolean): void;
};
type Event = { name: string; data: Record<string, unknown> };
const ATA_PROGRAM = new web3.PublicKey('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');

let s: Sandbox;
let network: PublicKey;
let alice: PublicKey;
let bob: Keypair;
let connection: InstanceType<typeof web3.Connection>;
// The IDL is JSON read at run time (no types generated from it), so the
// compiler cannot know its accounts and methods.
let program: any;

/** A keypair-backed wallet, the shape AnchorProvider signs with. */
function wallet(keypair: Keypair) {
    return {
        publicKey: keypair.publicKey,
        payer: keypair,
        async signTransaction<T>(tx: T): Promise<T> {
            if (tx instanceof web3.VersionedTransaction) tx.sign([keypair]);
            else (tx as InstanceType<typeof web3.Transaction>).partialSign(keypair);
            return tx;
        },
        async signAllTransactions<T>(txs: T[]): Promise<T[]> {
            return Promise.all(txs.map((tx) => this.signTransaction(tx)));
        },
    };
}

const pda = (seeds: (Buffer | Uint8Array)[]): PublicKey =>
    web3.PublicKey.findProgramAddressSync(seeds, program.programId)[0];
const memberPda = (wallet: PublicKey, classIndex: number) =>
    pda([Buffer.from('member'), network.toBuffer(), wallet.toBuffer(), Buffer.from([classIndex])]);

before(async () => {
    s = await Sandbox.start('anchor');
    s.wallet('admin');
    const oracle = s.wallet('oracle');
    alice = new web3.PublicKey(s.wallet('alice'));
    s.wallet('bob');
    network = new web3.PublicKey(s.init('cxmpute', oracle));
    s.ok('alice', ['member', 'join', '--network', network.toBase58(), '--class', 'provider']);
    bob = web3.Keypair.fromSecretKey(s.secret('bob'));
    connection = new web3.Connection(s.url, { commitment: 'confirmed', wsEndpoint: s.wsUrl });
    const provider = new AnchorProvider(connection, wallet(bob), { commitment: 'confirmed' });
    program = new Program(idl, provider);
});

after(async () => {
    // web3.js keeps its PubSub socket open for a moment after the last
    // subscription, and reconnects forever if the server goes first: close
    // it (the closing handshake, code 1000) before stopping the sandbox.
    const socket = (connection as unknown as { _rpcWebSocket?: RpcWebSocket })?._rpcWebSocket;
    socket?.setAutoReconnect(false);
    if (socket?.socket?.readyState === 1) {
        const started = Date.now();
        const closed = new Promise<number>((done) => socket.once('close', (code: number) => done(code)));
        socket.close();
        const code = await Promise.race([
            closed,
            new Promise<string>((done) => setTimeout(() => done('no close in 5 s'), 5_000)),
        ]);
        console.log(`web3.js PubSub socket closed: ${code} after ${Date.now() - started} ms`);
    }
    s?.stop();
});

/**
 * The program's name for a refused transaction, as a client sees it:
 * Anchor's `AnchorError` (from the program's "AnchorError occurred" log line),
 * else the custom error code of a `ProgramError` or of the runtime's
 * "custom program error: 0x…" log line, named from the IDL's errors.
 */
function errorName(e: {
    code?: number;
    logs?: string[];
    error?: { errorCode?: { code?: string } };
}): string | undefined {
    if (e.error?.errorCode?.code) return e.error.errorCode.code;
    const fromLogs = e.logs
        ?.map((l) => /custom program error: 0x([0-9a-f]+)/.exec(l)?.[1])
        .find((hex) => hex !== undefined);
    const code = typeof e.code === 'number' ? e.code : fromLogs === undefined ? undefined : parseInt(fromLogs, 16);
    return idl.errors?.find((x) => x.code === code)?.name;
}

test('.rpc() confirms over the WebSocket; fetch and .all() with filters read it back', async () => {
    const bobMember = memberPda(bob.publicKey, 1);
    const aliceMember = memberPda(alice, 1);
    const signature = await program.methods
        .join({ class: 1 })
        .accountsStrict({
            wallet: bob.publicKey,
            payer: bob.publicKey,
            network,
            member: bobMember,
            referrer: aliceMember,
            upline2: null,
            upline3: null,
            systemProgram: web3.SystemProgram.programId,
            eventAuthority: pda([Buffer.from('__event_authority')]),
            program: program.programId,
        })
        .rpc();

    const member = await program.account.member.fetch(bobMember);
    assert.ok(member.wallet.equals(bob.publicKey));
    assert.ok(member.referrer.equals(aliceMember));
    assert.equal(member.class, 1);
    assert.equal(member.downline[0], 0);

    // getProgramAccounts: every member of this network, then the referees of alice.
    const inNetwork = await program.account.member.all([{ memcmp: { offset: 8, bytes: network.toBase58() } }]);
    assert.deepEqual(
        inNetwork.map((m: { publicKey: PublicKey }) => m.publicKey.toBase58()).sort(),
        [aliceMember.toBase58(), bobMember.toBase58()].sort(),
    );
    const referees = await program.account.member.all([
        { memcmp: { offset: 8 + 32 + 32, bytes: aliceMember.toBase58() } },
    ]);
    assert.deepEqual(
        referees.map((m: { publicKey: PublicKey }) => m.publicKey.toBase58()),
        [bobMember.toBase58()],
    );

    // web3.js's getProgramAccounts with a dataSize filter: both members have
    // slots on the same ledgers, so the same size; one byte more matches none.
    const size = (await connection.getAccountInfo(bobMember))?.data.length ?? 0;
    const bySize = (dataSize: number) =>
        connection
            .getProgramAccounts(program.programId, {
                filters: [{ dataSize }, { memcmp: { offset: 8, bytes: network.toBase58() } }],
            })
            .then((found) => found.map((a) => a.pubkey.toBase58()).sort());
    assert.deepEqual(await bySize(size), [aliceMember.toBase58(), bobMember.toBase58()].sort());
    assert.deepEqual(await bySize(size + 1), []);

    // The join's events, from getTransaction's inner instructions (json encoding).
    const tx = await connection.getTransaction(signature, {
        commitment: 'confirmed',
        maxSupportedTransactionVersion: 0,
    });
    assert.ok(tx?.meta, `getTransaction ${signature} returned ${JSON.stringify(tx)}`);
    const keys = tx.transaction.message.getAccountKeys({ accountKeysFromLookups: tx.meta.loadedAddresses });
    const events = (tx.meta.innerInstructions ?? [])
        .flatMap((inner) => inner.instructions)
        .filter((ix) => keys.get(ix.programIdIndex)?.equals(program.programId))
        .map((ix) => Buffer.from(anchor.utils.bytes.bs58.decode(ix.data)))
        .filter((data) => data.subarray(0, 8).equals(EVENT_IX_TAG))
        .map((data) => program.coder.events.decode(data.subarray(8).toString('base64')) as Event | null)
        .filter((e): e is Event => e !== null);
    const names = events.map((e) => e.name);
    assert.ok(names.includes('memberJoined') || names.includes('MemberJoined'), `events: ${names}`);
    const joined = events.find((e) => /^[mM]emberJoined$/.test(e.name));
    assert.ok((joined?.data['member'] as PublicKey).equals(bobMember));
    const linked = events.find((e) => /^[rR]eferrerLinked$/.test(e.name));
    assert.ok((linked?.data['referrer'] as PublicKey).equals(aliceMember), `events: ${names}`);
});

test('.simulate() and .rpc() of a claim below the minimum fail with BelowMinimum', async () => {
    const ledger = pda([Buffer.from('ledger'), network.toBuffer(), Buffer.from([0])]);
    const state = await program.account.ledger.fetch(ledger);
    const mint = state.mint as PublicKey;
    const tokenProgram = state.tokenProgram as PublicKey;
    const destination = web3.PublicKey.findProgramAddressSync(
        [bob.publicKey.toBuffer(), tokenProgram.toBuffer(), mint.toBuffer()],
        ATA_PROGRAM,
    )[0];
    // The associated token account, created if missing (the instruction's idempotent form, 1).
    const createAta = new web3.TransactionInstruction({
        programId: ATA_PROGRAM,
        keys: [
            { pubkey: bob.publicKey, isSigner: true, isWritable: true },
            { pubkey: destination, isSigner: false, isWritable: true },
            { pubkey: bob.publicKey, isSigner: false, isWritable: false },
            { pubkey: mint, isSigner: false, isWritable: false },
            { pubkey: web3.SystemProgram.programId, isSigner: false, isWritable: false },
            { pubkey: tokenProgram, isSigner: false, isWritable: false },
        ],
        data: Buffer.from([1]),
    });
    const claimHalf = () =>
        program.methods
            .withdraw(new BN(500_000_000)) // 0.5 CXPT; the preset's minimum is 1
            .accountsStrict({
                wallet: bob.publicKey,
                network,
                ledger,
                member: memberPda(bob.publicKey, 1),
                mint,
                vault: state.vault as PublicKey,
                destination,
                tokenProgram,
                eventAuthority: pda([Buffer.from('__event_authority')]),
                program: program.programId,
            })
            .preInstructions([createAta]);

    // .simulate() throws Anchor's SimulateError, carrying the simulation's result.
    const simulated = await claimHalf()
        .simulate()
        .then(
            () => assert.fail('the simulation should fail'),
            (e: { simulationResponse?: { err?: unknown; logs?: string[] } }) => e,
        );
    const err = simulated.simulationResponse?.err as { InstructionError?: [number, { Custom?: number }] } | undefined;
    assert.equal(errorName({ code: err?.InstructionError?.[1]?.Custom }), 'BelowMinimum', JSON.stringify(simulated));
    assert.ok(simulated.simulationResponse?.logs?.some((l: string) => l.includes('custom program error: 0x177f')));
    // The program's own log line, where a validator shows it.
    assert.ok(
        simulated.simulationResponse?.logs?.some(
            (l: string) =>
                l.startsWith('Program log: AnchorError ') &&
                l.includes('Error Code: BelowMinimum. Error Number: 6015.'),
        ),
        JSON.stringify(simulated.simulationResponse?.logs),
    );

    // .rpc() fails in preflight with the same error.
    const sent = await claimHalf()
        .rpc()
        .then(
            () => assert.fail('the claim should be refused'),
            (e: Parameters<typeof errorName>[0]) => e,
        );
    assert.equal(errorName(sent), 'BelowMinimum', String(sent));
    // Anchor parses that line into its own AnchorError.
    assert.equal(sent.error?.errorCode?.code, 'BelowMinimum', String(sent));
});
