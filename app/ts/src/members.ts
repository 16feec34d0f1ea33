// Reading memberships from chain: a wallet's member accounts, the network
// and its ledgers, and the upline a member stores (each member keeps its
// referrer's *member account*, so the chain is walked one account at a time).

import { type Address, type GetAccountInfoApi, type GetMultipleAccountsApi, type Rpc } from '@solana/kit';
import { fetchAllMaybeLedger, type Ledger } from './generated/accounts/ledger.js';
import { fetchAllMaybeMember, fetchMaybeMember, type Member } from './generated/accounts/member.js';
import { fetchNetwork, type Network } from './generated/accounts/network.js';
import { labelText, ledgerAddress, MAX_CLASSES, MAX_REFERRAL_DEPTH, memberAddress } from './addresses.js';

/** What the readers here need of an RPC client. */
export type ReadRpc = Rpc<GetAccountInfoApi & GetMultipleAccountsApi>;

/** The all-zero address: a member's `referrer` before it links. */
export const NO_REFERRER = '11111111111111111111111111111111' as Address;

/** Single-bit facts of `Member.flags` (programs/upline/src/state/member.rs). */
export const MemberFlag = {
    EARLY_REFEREE: 1 << 0,
    BONUS_DUE: 1 << 1,
    HAS_WORKED: 1 << 2,
    ATTESTED: 1 << 3,
    EARLY_MEMBER: 1 << 4,
    FROZEN: 1 << 5,
} as const;

/** Whether `member` has flag `flag` (a `MemberFlag` value). */
export function hasFlag(member: Member, flag: number): boolean {
    return (member.flags[0] & flag) !== 0;
}

/** A member's balance on ledger `index` in WAD: credits − withdrawn (0 without a slot). */
export function ledgerBalance(member: Member, index: number): bigint {
    const slot = member.ledgers[index];
    if (!slot) return 0n;
    const credited = slot.own[0] + slot.level1[0] + slot.level2[0] + slot.level3[0] + slot.bonus[0];
    return credited - slot.withdrawn[0];
}

/** One membership: its account address, class number and decoded account. */
export type Membership = { address: Address; classIndex: number; member: Member };

/** A network with its ledgers, as the stats and calls need it. */
export type NetworkView = {
    address: Address;
    network: Network;
    ledgers: { address: Address; ledger: Ledger }[];
};

/** The network at `address` and all its ledgers (one request for the ledgers). */
export async function loadNetwork(rpc: ReadRpc, address: Address): Promise<NetworkView> {
    const network = (await fetchNetwork(rpc, address)).data;
    const addresses = await Promise.all(
        Array.from({ length: network.ledgerCount }, (_, index) => ledgerAddress(address, index)),
    );
    const accounts = addresses.length === 0 ? [] : await fetchAllMaybeLedger(rpc, addresses);
    const ledgers = accounts.flatMap((a) => (a.exists ? [{ address: a.address, ledger: a.data }] : []));
    return { address, network: network, ledgers };
}

/** The names of the network's classes, by class number. */
export function classNames(network: Network): string[] {
    return network.tables.classes.slice(0, network.tables.classCount).map((c) => labelText(c.name));
}

/** The class number called `name` in `network`; throws `UnknownClass` naming the choices. */
export function classIndex(network: Network, name: string): number {
    const names = classNames(network);
    const index = names.indexOf(name);
    if (index < 0) {
        throw new Error(`class ${JSON.stringify(name)}: the network's classes are ${names.join(', ')} (UnknownClass)`);
    }
    return index;
}

/** The ledger called `name` (its index and accounts); throws `UnknownLedger` naming the choices. */
export function findLedger(view: NetworkView, name: string): { address: Address; ledger: Ledger } {
    const found = view.ledgers.find((l) => labelText(l.ledger.name) === name);
    if (!found) {
        const names = view.ledgers.map((l) => labelText(l.ledger.name));
        throw new Error(
            `ledger ${JSON.stringify(name)}: the network's ledgers are ${names.join(', ')} (UnknownLedger)`,
        );
    }
    return found;
}

/** The member account at `address`, or null when nothing (or not a member) is there. */
export async function readMember(rpc: ReadRpc, address: Address): Promise<Member | null> {
    const account = await fetchMaybeMember(rpc, address);
    return account.exists ? account.data : null;
}

/** Every membership `wallet` holds in `network`, by class (one request). */
export async function membershipsOf(rpc: ReadRpc, network: Address, wallet: Address): Promise<Membership[]> {
    const addresses = await Promise.all(
        Array.from({ length: MAX_CLASSES }, (_, c) => memberAddress(network, wallet, c)),
    );
    const accounts = await fetchAllMaybeMember(rpc, addresses);
    return accounts.flatMap((a, classIndex) => (a.exists ? [{ address: a.address, classIndex, member: a.data }] : []));
}

/**
 * The stored upline above the member account `start`: its referrer's member
 * account, that one's referrer, ... up to `depth` levels (3 by default, the
 * most a commission schedule pays), nearest first. Each entry is a member
 * account with its decoded data.
 */
export async function uplineOf(
    rpc: ReadRpc,
    start: Member,
    depth = MAX_REFERRAL_DEPTH,
): Promise<{ address: Address; member: Member }[]> {
    const upline: { address: Address; member: Member }[] = [];
    let next = start.referrer;
    while (next !== NO_REFERRER && upline.length < depth) {
        const member = await readMember(rpc, next);
        // A stored referrer is always a member (the program checks it at link);
        // a missing one means the account was read from another cluster.
        if (!member) throw new Error(`upline: ${next} is not a member account (UnknownMember)`);
        upline.push({ address: next, member });
        next = member.referrer;
    }
    return upline;
}

/**
 * Which membership a referral code names (DESIGN.md §3 rule 6, the Rust SDK's
 * `client::referrer_membership`): the code is the referrer's `wallet`; the
 * membership is its one in `joinerClass` where it holds one, else its only
 * one, else the one in `namedClass`. Null when there is none (the program's
 * `UnknownReferrer`).
 */
export async function referrerMembership(
    rpc: ReadRpc,
    network: Address,
    wallet: Address,
    joinerClass: number,
    namedClass?: number,
): Promise<Membership | null> {
    const held = await membershipsOf(rpc, network, wallet);
    const inClass = (c: number | undefined) => held.find((m) => m.classIndex === c) ?? null;
    return inClass(joinerClass) ?? (held.length === 1 ? held[0]! : null) ?? inClass(namedClass);
}
