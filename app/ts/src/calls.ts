// One call each for what a member does: join (with a referral code), set a
// referrer later, and claim (withdraw to the wallet's associated token
// account, created first if missing). Each builds the instructions from the
// generated builders, signs with the wallet, sends and waits for
// confirmation over the PubSub WebSocket (@solana/kit's send-and-confirm),
// and re-throws the program's refusals by name.

import {
    appendTransactionMessageInstructions,
    assertIsTransactionWithBlockhashLifetime,
    createSolanaRpc,
    createSolanaRpcSubscriptions,
    createTransactionMessage,
    getSignatureFromTransaction,
    pipe,
    sendAndConfirmTransactionFactory,
    setTransactionMessageFeePayerSigner,
    setTransactionMessageLifetimeUsingBlockhash,
    signTransactionMessageWithSigners,
    type Address,
    type Commitment,
    type Instruction,
    type RpcSubscriptions,
    type Rpc,
    type Signature,
    type SignatureNotificationsApi,
    type SlotNotificationsApi,
    type SolanaRpcApi,
    type TransactionSigner,
} from '@solana/kit';
import { findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstruction } from '@solana-program/token';
import { getJoinInstruction } from './generated/instructions/join.js';
import { getSetReferrerInstruction } from './generated/instructions/setReferrer.js';
import { getWithdrawInstruction } from './generated/instructions/withdraw.js';
import { UPLINE_PROGRAM_ADDRESS } from './generated/programs/index.js';
import { LedgerKind } from './generated/types/ledgerKind.js';
import { eventAuthorityAddress, labelText, memberAddress } from './addresses.js';
import { formatFixed, parseFixed, wadToBaseUnits } from './amounts.js';
import { rethrowNamed } from './errors.js';
import {
    classIndex,
    classNames,
    findLedger,
    ledgerBalance,
    loadNetwork,
    membershipsOf,
    referrerMembership,
    uplineOf,
    type Membership,
} from './members.js';

/** An RPC endpoint and its PubSub WebSocket, with the commitment to confirm at. */
export type UplineClient = {
    rpc: Rpc<SolanaRpcApi>;
    rpcSubscriptions: RpcSubscriptions<SignatureNotificationsApi & SlotNotificationsApi>;
    commitment: Commitment;
};

/**
 * Connect to a cluster: `url` is its JSON-RPC endpoint; the WebSocket is
 * `wsUrl`, or by default the next port on the same host (ws:// for http://),
 * as solana-test-validator, `upline sandbox` and web3.js's `Connection` do.
 */
export function connect(url: string, options: { wsUrl?: string; commitment?: Commitment } = {}): UplineClient {
    return {
        rpc: createSolanaRpc(url),
        rpcSubscriptions: createSolanaRpcSubscriptions(options.wsUrl ?? pubsubUrl(url)),
        commitment: options.commitment ?? 'confirmed',
    };
}

/** The PubSub URL beside a JSON-RPC URL: ws(s)://, the port after the HTTP one. */
export function pubsubUrl(url: string): string {
    const ws = new URL(url);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    if (ws.port !== '') ws.port = String(Number(ws.port) + 1);
    return ws.toString();
}

/** Sign `instructions` with `feePayer` (and any signer they name), send, and wait for `client.commitment`. */
export async function sendInstructions(
    client: UplineClient,
    feePayer: TransactionSigner,
    instructions: Instruction[],
): Promise<Signature> {
    const { value: blockhash } = await client.rpc.getLatestBlockhash({ commitment: client.commitment }).send();
    const message = pipe(
        createTransactionMessage({ version: 0 }),
        (m) => setTransactionMessageFeePayerSigner(feePayer, m),
        (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
        (m) => appendTransactionMessageInstructions(instructions, m),
    );
    const transaction = await signTransactionMessageWithSigners(message);
    assertIsTransactionWithBlockhashLifetime(transaction);
    const sendAndConfirm = sendAndConfirmTransactionFactory(client);
    await sendAndConfirm(transaction, { commitment: client.commitment });
    return getSignatureFromTransaction(transaction);
}

/** What `join` did: its signature, the new member account and the upline it linked. */
export type Joined = { signature: Signature; member: Address; upline: Address[] };

/**
 * Join `network` in class `className` (a name such as "provider"), referred
 * by the wallet `referrer` (a referral code) if given: join and link are one
 * instruction, so no one can slip in under the new member before it links
 * (README, "Link early, in one transaction"). The referrer's membership is
 * the one in the joiner's class, else its only one, else `referrerClass`.
 */
export async function join(
    client: UplineClient,
    args: {
        network: Address;
        wallet: TransactionSigner;
        className: string;
        referrer?: Address;
        referrerClass?: string;
        /** Pays the rent instead of the wallet (a sponsor; it signs too). */
        payer?: TransactionSigner;
    },
): Promise<Joined> {
    const view = await loadNetwork(client.rpc, args.network);
    const joinerClass = classIndex(view.network, args.className);
    const action = `join ${args.network} as ${args.className}`;
    let upline: Address[] = [];
    if (args.referrer !== undefined) {
        const named = args.referrerClass === undefined ? undefined : classIndex(view.network, args.referrerClass);
        const referrer = await referrerMembership(client.rpc, args.network, args.referrer, joinerClass, named);
        if (!referrer) {
            throw new Error(
                `${action}: referral code ${args.referrer} names no membership of network ${args.network} ` +
                    `in class ${args.referrerClass ?? args.className} (UnknownReferrer)`,
            );
        }
        upline = [referrer.address, ...(await uplineOf(client.rpc, referrer.member, 2)).map((u) => u.address)];
    }
    const member = await memberAddress(args.network, args.wallet.address, joinerClass);
    const instruction = getJoinInstruction({
        wallet: args.wallet,
        payer: args.payer ?? args.wallet,
        network: args.network,
        member,
        referrer: upline[0],
        upline2: upline[1],
        upline3: upline[2],
        eventAuthority: await eventAuthorityAddress(),
        program: UPLINE_PROGRAM_ADDRESS,
        class: joinerClass,
    });
    try {
        const signature = await sendInstructions(client, args.payer ?? args.wallet, [instruction]);
        return { signature, member, upline };
    } catch (error) {
        rethrowNamed(error, action);
    }
}

/** The wallet's membership in `className`, or its only one; named errors otherwise. */
async function ownMembership(
    client: UplineClient,
    network: Address,
    wallet: Address,
    className: string | undefined,
    action: string,
): Promise<Membership> {
    const held = await membershipsOf(client.rpc, network, wallet);
    if (className !== undefined) {
        const view = await loadNetwork(client.rpc, network);
        const index = classIndex(view.network, className);
        const found = held.find((m) => m.classIndex === index);
        if (found) return found;
        throw new Error(`${action}: ${wallet} has no ${className} membership in network ${network} (UnknownMember)`);
    }
    if (held.length === 1) return held[0]!;
    if (held.length === 0)
        throw new Error(`${action}: ${wallet} is not a member of network ${network} (UnknownMember)`);
    const view = await loadNetwork(client.rpc, network);
    const names = held.map((m) => classNames(view.network)[m.classIndex] ?? String(m.classIndex));
    throw new Error(`${action}: ${wallet} holds ${held.length} memberships (${names.join(', ')}); name the class`);
}

/**
 * Link the wallet's membership (in `className`, or its only one) to the
 * referrer wallet `referrer`, once, while it has no referees.
 */
export async function setReferrer(
    client: UplineClient,
    args: {
        network: Address;
        wallet: TransactionSigner;
        referrer: Address;
        className?: string;
        referrerClass?: string;
    },
): Promise<Joined> {
    const action = `set referrer of ${args.wallet.address} to ${args.referrer}`;
    const own = await ownMembership(client, args.network, args.wallet.address, args.className, action);
    const view = await loadNetwork(client.rpc, args.network);
    const named = args.referrerClass === undefined ? undefined : classIndex(view.network, args.referrerClass);
    const referrer = await referrerMembership(client.rpc, args.network, args.referrer, own.classIndex, named);
    if (!referrer)
        throw new Error(`${action}: ${args.referrer} is not a member of network ${args.network} (UnknownReferrer)`);
    const upline = [referrer.address, ...(await uplineOf(client.rpc, referrer.member, 2)).map((u) => u.address)];
    const instruction = getSetReferrerInstruction({
        wallet: args.wallet,
        network: args.network,
        member: own.address,
        referrer: referrer.address,
        upline2: upline[1],
        upline3: upline[2],
        eventAuthority: await eventAuthorityAddress(),
        program: UPLINE_PROGRAM_ADDRESS,
    });
    try {
        const signature = await sendInstructions(client, args.wallet, [instruction]);
        return { signature, member: own.address, upline };
    } catch (error) {
        rethrowNamed(error, action);
    }
}

/** What `claim` paid: the signature, the token account and the base units. */
export type Claimed = { signature: Signature; destination: Address; amount: bigint; ledger: string };

/**
 * Withdraw from token ledger `ledger` (its name, e.g. "CXPT") to the wallet's
 * associated token account, created in the same transaction if missing.
 * `amount` is a decimal string of whole tokens ("10", "0.5"); omitted, every
 * whole base unit of the balance. Refusals come back by name:
 * `claim 0.5 CXPT: below this ledger's minimum of 1 CXPT (BelowMinimum)`.
 */
export async function claim(
    client: UplineClient,
    args: { network: Address; wallet: TransactionSigner; ledger: string; amount?: string; className?: string },
): Promise<Claimed> {
    const view = await loadNetwork(client.rpc, args.network);
    const { address: ledgerAddress, ledger } = findLedger(view, args.ledger);
    const name = labelText(ledger.name);
    const action = `claim ${args.amount ?? 'all'} ${name}`;
    if (ledger.kind !== LedgerKind.Token) {
        throw new Error(`${action}: ${name} counts points, which are not withdrawable (NotWithdrawable)`);
    }
    const own = await ownMembership(client, args.network, args.wallet.address, args.className, action);
    // Omitted, the program takes every whole base unit of the balance; the
    // same figure is reported back.
    const amount =
        args.amount === undefined
            ? wadToBaseUnits(ledgerBalance(own.member, ledger.index), ledger.decimals)
            : parseFixed(args.amount, ledger.decimals);
    const [destination] = await findAssociatedTokenPda({
        owner: args.wallet.address,
        mint: ledger.mint,
        tokenProgram: ledger.tokenProgram,
    });
    const instructions = [
        getCreateAssociatedTokenIdempotentInstruction({
            payer: args.wallet,
            ata: destination,
            owner: args.wallet.address,
            mint: ledger.mint,
            tokenProgram: ledger.tokenProgram,
        }),
        getWithdrawInstruction({
            wallet: args.wallet,
            network: args.network,
            ledger: ledgerAddress,
            member: own.address,
            mint: ledger.mint,
            vault: ledger.vault,
            destination,
            tokenProgram: ledger.tokenProgram,
            eventAuthority: await eventAuthorityAddress(),
            program: UPLINE_PROGRAM_ADDRESS,
            amount: args.amount === undefined ? null : amount,
        }),
    ];
    const whole = (units: bigint) => `${formatFixed(units, ledger.decimals)} ${name}`;
    try {
        const signature = await sendInstructions(client, args.wallet, instructions);
        return { signature, destination, amount, ledger: name };
    } catch (error) {
        rethrowNamed(error, action, (refusal) => {
            if (refusal === 'BelowMinimum') return `below this ledger's minimum of ${whole(ledger.minWithdrawal)}`;
            if (refusal === 'InsufficientBalance') return `more than the balance (${whole(amount)} asked)`;
            return undefined;
        });
    }
}
