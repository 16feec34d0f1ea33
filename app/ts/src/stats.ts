// Referral stats as DESIGN.md and the Cxmpute document describe them, built
// from a member account exactly as the Rust SDK's app/sdk/src/stats.rs does:
// the same object, field for field, that `upline member stats --json` and the
// explorer's referral-stats API print (amounts as exact decimal strings).

import { type Address, type GetAccountInfoApi, type Rpc } from '@solana/kit';
import { fetchSysvarClock } from '@solana/sysvars';
import type { Member } from './generated/accounts/member.js';
import type { Ledger } from './generated/accounts/ledger.js';
import type { Network } from './generated/accounts/network.js';
import { CommissionTier } from './generated/types/commissionTier.js';
import { formatFixed, formatWad } from './amounts.js';
import { labelText } from './addresses.js';
import { hasFlag, loadNetwork, MemberFlag, membershipsOf, NO_REFERRER, readMember, type ReadRpc } from './members.js';

/** Days of credit history a member keeps per ledger. */
export const HISTORY_DAYS = 30;
const SECONDS_PER_DAY = 86_400n;
const U128_MAX = (1n << 128n) - 1n;

/** One ledger's part of a membership's stats. */
export type LedgerStats = {
    ledger: string;
    totals: { work: string; referral: string; credited: string; withdrawn: string; balance: string };
    rewards_by_level: { level1: string; level2: string; level3: string; direct_bonus: string };
    /** The last 30 days, oldest first, in whole units (each credit rounded down to 10^-9). */
    history: { day: string; credited: string }[];
};

/** The referral stats of one membership. */
export type ReferralStats = {
    wallet: string;
    member: string;
    network: string;
    network_name: string;
    class: string;
    /** The referrer's wallet (its referral code); null before linking. */
    referrer: string | null;
    /** The referrer's member account (the membership linked); null before linking. */
    referrer_member: string | null;
    tier: 'standard' | 'premium' | 'vip';
    device_tier: number;
    attested: boolean;
    /** Frozen by the admin: earns and withdraws nothing until unfrozen. */
    frozen: boolean;
    downline: { level1: number; level2: number; level3: number; total: number };
    ledgers: LedgerStats[];
};

/** A day number (days since 1970-01-01) as YYYY-MM-DD. */
export function dayText(day: number): string {
    return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** The last 30 days of credits on ledger `index`, oldest first (the program's `Member::history`). */
export function history(member: Member, index: number, now: bigint): bigint[] {
    const slot = member.ledgers[index];
    const out = new Array<bigint>(HISTORY_DAYS).fill(0n);
    if (!slot) return out;
    const nowDay = Number((now < 0n ? 0n : now) / SECONDS_PER_DAY);
    const today = Math.max(nowDay, member.historyDay);
    for (let age = 0; age < HISTORY_DAYS; age++) {
        const day = today - age;
        if (day < 0) break;
        if (day <= member.historyDay && member.historyDay - day < HISTORY_DAYS) {
            out[HISTORY_DAYS - 1 - age] = slot.dailyCredits[day % HISTORY_DAYS] ?? 0n;
        }
    }
    return out;
}

const TIERS: Record<CommissionTier, ReferralStats['tier']> = {
    [CommissionTier.Standard]: 'standard',
    [CommissionTier.Premium]: 'premium',
    [CommissionTier.Vip]: 'vip',
};

/**
 * The stats of `member` (account `memberAddress`, referred by the wallet
 * `referrerWallet` where known) in `network` (at `networkAddress`, with its
 * `ledgers`), the history window ending on the day of unix time `now`.
 */
export function referralStats(
    networkAddress: Address,
    network: Network,
    ledgers: Ledger[],
    subject: { member: Address; referrerWallet: Address | null },
    member: Member,
    now: bigint,
): ReferralStats {
    const classTable = network.tables.classes[member.class];
    const perLedger: LedgerStats[] = [];
    for (const ledger of ledgers) {
        const slot = member.ledgers[ledger.index];
        if (!slot) continue;
        const [own, l1, l2, l3, bonus, withdrawn] = [
            slot.own,
            slot.level1,
            slot.level2,
            slot.level3,
            slot.bonus,
            slot.withdrawn,
        ].map((w) => w[0]) as [bigint, bigint, bigint, bigint, bigint, bigint];
        const referral = bonus + l1 + l2 + l3;
        const credited = own + referral;
        // As in Rust: a sum past u128 cannot be stored, so it prints as the
        // saturated value (referral) or nothing (credited, balance).
        const fits = credited <= U128_MAX;
        const today = Number(now / SECONDS_PER_DAY - (now % SECONDS_PER_DAY < 0n ? 1n : 0n));
        perLedger.push({
            ledger: labelText(ledger.name),
            totals: {
                work: formatWad(own),
                referral: formatWad(referral <= U128_MAX ? referral : U128_MAX),
                credited: fits ? formatWad(credited) : '',
                withdrawn: formatWad(withdrawn),
                balance: fits && credited >= withdrawn ? formatWad(credited - withdrawn) : '',
            },
            rewards_by_level: {
                level1: formatWad(l1),
                level2: formatWad(l2),
                level3: formatWad(l3),
                direct_bonus: formatWad(bonus),
            },
            history: history(member, ledger.index, now).map((nano, age) => ({
                day: dayText(today - (HISTORY_DAYS - 1) + age),
                credited: formatFixed(nano, 9),
            })),
        });
    }
    const [d1, d2, d3] = member.downline as [number, number, number];
    return {
        wallet: member.wallet,
        member: subject.member,
        network: networkAddress,
        network_name: labelText(network.name),
        class: classTable ? labelText(classTable.name) : '?',
        referrer: subject.referrerWallet,
        referrer_member: member.referrer === NO_REFERRER ? null : member.referrer,
        tier: TIERS[member.commissionTier],
        device_tier: member.deviceTier,
        attested: hasFlag(member, MemberFlag.ATTESTED),
        frozen: hasFlag(member, MemberFlag.FROZEN),
        downline: { level1: d1, level2: d2, level3: d3, total: d1 + d2 + d3 },
        ledgers: perLedger,
    };
}

/** The cluster's clock (unix seconds), which the history window follows. */
export async function clusterTime(rpc: Rpc<GetAccountInfoApi>): Promise<bigint> {
    return (await fetchSysvarClock(rpc)).unixTimestamp;
}

/**
 * The stats of every membership `wallet` holds in `network` (one per class):
 * `{wallet, memberships: [...]}`, the shape of `upline member stats --json`.
 * Throws `UnknownMember` when it holds none.
 */
export async function fetchReferralStats(
    rpc: ReadRpc,
    network: Address,
    wallet: Address,
): Promise<{ wallet: string; memberships: ReferralStats[] }> {
    const [view, held, now] = await Promise.all([
        loadNetwork(rpc, network),
        membershipsOf(rpc, network, wallet),
        clusterTime(rpc),
    ]);
    if (held.length === 0) throw new Error(`UnknownMember: ${wallet} is not a member of network ${network}`);
    const memberships: ReferralStats[] = [];
    for (const m of held) {
        // The member stores its referrer's membership; the code people share is its wallet.
        const referrer = m.member.referrer === NO_REFERRER ? null : await readMember(rpc, m.member.referrer);
        memberships.push(
            referralStats(
                network,
                view.network,
                view.ledgers.map((l) => l.ledger),
                { member: m.address, referrerWallet: referrer?.wallet ?? null },
                m.member,
                now,
            ),
        );
    }
    return { wallet, memberships };
}
