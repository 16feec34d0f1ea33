// Program-derived addresses, from the seeds of programs/upline/src/constants.rs
// (the Rust SDK's app/sdk/src/pda.rs derives the same ones).

import {
    getAddressEncoder,
    getProgramDerivedAddress,
    getUtf8Encoder,
    type Address,
    type ReadonlyUint8Array,
} from '@solana/kit';
import { UPLINE_PROGRAM_ADDRESS } from './generated/programs/index.js';

/** Longest network name in bytes: it is a PDA seed, zero-padded to 32. */
export const MAX_NETWORK_NAME_LEN = 32;
/** Member classes per network: a wallet has at most one membership per class. */
export const MAX_CLASSES = 4;
/** Levels of upline a commission schedule pays. */
export const MAX_REFERRAL_DEPTH = 3;

const utf8 = getUtf8Encoder();
const addressBytes = getAddressEncoder();
const seed = (text: string): ReadonlyUint8Array => utf8.encode(text);

async function pda(seeds: ReadonlyUint8Array[], programAddress: Address): Promise<Address> {
    const [address] = await getProgramDerivedAddress({ programAddress, seeds });
    return address;
}

/**
 * A network name as the program stores and seeds it: 1 to 32 bytes of UTF-8,
 * zero-padded to 32. Throws for an empty or over-long name.
 */
export function networkName(name: string): Uint8Array {
    const bytes = utf8.encode(name);
    if (bytes.length === 0 || bytes.length > MAX_NETWORK_NAME_LEN) {
        throw new RangeError(`network name ${JSON.stringify(name)}: 1 to ${MAX_NETWORK_NAME_LEN} bytes of UTF-8`);
    }
    const padded = new Uint8Array(MAX_NETWORK_NAME_LEN);
    padded.set(bytes);
    return padded;
}

/** A zero-padded label (network, ledger or class name) as text; "" if not UTF-8. */
export function labelText(label: ReadonlyUint8Array): string {
    const end = label.indexOf(0);
    try {
        return new TextDecoder('utf-8', { fatal: true }).decode(label.slice(0, end < 0 ? label.length : end));
    } catch {
        return '';
    }
}

/** The network `creator` created under `name`: `[b"network", creator, name padded to 32]`. */
export function networkAddress(creator: Address, name: string, programAddress = UPLINE_PROGRAM_ADDRESS) {
    return pda([seed('network'), addressBytes.encode(creator), networkName(name)], programAddress);
}

/** Ledger number `index` of `network`: `[b"ledger", network, [index]]`. */
export function ledgerAddress(network: Address, index: number, programAddress = UPLINE_PROGRAM_ADDRESS) {
    return pda([seed('ledger'), addressBytes.encode(network), Uint8Array.of(index)], programAddress);
}

/** The vault token account of a token ledger: `[b"vault", ledger]`. */
export function vaultAddress(ledger: Address, programAddress = UPLINE_PROGRAM_ADDRESS) {
    return pda([seed('vault'), addressBytes.encode(ledger)], programAddress);
}

/**
 * The member account of `wallet`'s membership in class number `classIndex` of
 * `network`: `[b"member", network, wallet, [class]]`.
 */
export function memberAddress(
    network: Address,
    wallet: Address,
    classIndex: number,
    programAddress = UPLINE_PROGRAM_ADDRESS,
) {
    return pda(
        [seed('member'), addressBytes.encode(network), addressBytes.encode(wallet), Uint8Array.of(classIndex)],
        programAddress,
    );
}

/** The authority that signs the program's `emit_cpi!` event instructions. */
export function eventAuthorityAddress(programAddress = UPLINE_PROGRAM_ADDRESS) {
    return pda([seed('__event_authority')], programAddress);
}
