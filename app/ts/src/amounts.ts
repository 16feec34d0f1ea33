// Exact decimal amounts (DESIGN.md §2): the program keeps money as WAD, an
// integer count of 10^-18 of a whole unit, and token amounts as base units
// (10^-decimals). Both travel here as bigint and print as decimal strings;
// nothing passes through a float, so "0.375" stays 0.375.

/** One whole unit in WAD (10^18). */
export const WAD = 10n ** 18n;

/** Decimal places of a WAD amount. */
export const WAD_DECIMALS = 18;

/** Why a decimal string is not an amount (the Rust SDK's `DecimalError`). */
export class DecimalError extends Error {
    constructor(
        readonly text: string,
        readonly reason: 'Empty' | 'InvalidCharacter' | 'TooPrecise' | 'Negative',
        detail: string,
    ) {
        super(`${JSON.stringify(text)}: ${detail} (${reason})`);
        this.name = 'DecimalError';
    }
}

/** 10^exp as a bigint. */
export function pow10(exp: number): bigint {
    if (!Number.isInteger(exp) || exp < 0) throw new RangeError(`10^${exp}: the exponent must be a whole number >= 0`);
    return 10n ** BigInt(exp);
}

/**
 * `value` units of 10^-decimals as a trimmed decimal string: every
 * significant digit, no trailing zeros ("0.375", "5", "0"), as the program's
 * `format_fixed` prints it.
 */
export function formatFixed(value: bigint, decimals: number): string {
    if (value < 0n) return `-${formatFixed(-value, decimals)}`;
    const scale = pow10(decimals);
    const whole = value / scale;
    const fraction = value % scale;
    if (fraction === 0n) return whole.toString();
    const digits = fraction.toString().padStart(decimals, '0').replace(/0+$/, '');
    return `${whole}.${digits}`;
}

/** A WAD amount as a decimal string of whole units. */
export function formatWad(wad: bigint): string {
    return formatFixed(wad, WAD_DECIMALS);
}

/**
 * Parse a non-negative decimal ("10", "0.5") into units of 10^-decimals,
 * exactly: more significant fractional digits than `decimals` is refused
 * rather than rounded (the program's `parse_fixed`).
 */
export function parseFixed(text: string, decimals: number): bigint {
    if (text.startsWith('-')) throw new DecimalError(text, 'Negative', 'an amount cannot be negative');
    const point = text.indexOf('.');
    const whole = point < 0 ? text : text.slice(0, point);
    const fraction = point < 0 ? '' : text.slice(point + 1);
    if (text === '' || text.startsWith('.') || text.endsWith('.')) {
        throw new DecimalError(text, 'Empty', 'digits are needed on both sides of the point');
    }
    if (!/^[0-9]*$/.test(whole) || !/^[0-9]*$/.test(fraction)) {
        throw new DecimalError(text, 'InvalidCharacter', "a decimal number is digits with at most one '.'");
    }
    const significant = fraction.replace(/0+$/, '');
    if (significant.length > decimals) {
        throw new DecimalError(text, 'TooPrecise', `more than ${decimals} digits after the point`);
    }
    return BigInt(whole + significant) * pow10(decimals - significant.length);
}

/** Base units of a token with `decimals` (at most 18) as WAD. */
export function baseUnitsToWad(amount: bigint, decimals: number): bigint {
    return amount * pow10(WAD_DECIMALS - decimals);
}

/** The whole base units in a WAD amount (rounded down, as withdrawals take them). */
export function wadToBaseUnits(wad: bigint, decimals: number): bigint {
    return wad / pow10(WAD_DECIMALS - decimals);
}
