// The program's refusals by name. The program fails with custom error
// 6000 + n (programs/upline/src/errors.rs); the names and messages come from
// the IDL through the generated `UPLINE_ERROR__*` constants, so a failing
// claim reports `BelowMinimum`, never `custom program error: 0x177f`.

import { isSolanaError, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM } from '@solana/kit';
import * as generated from './generated/errors/upline.js';

const PREFIX = 'UPLINE_ERROR__';

/** `BELOW_MINIMUM` → `BelowMinimum` (the IDL's spelling, which the constants upper-case). */
function pascalCase(screaming: string): string {
    return screaming
        .toLowerCase()
        .split('_')
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join('');
}

/** Every error of the program: code → name. */
export const UPLINE_ERROR_NAMES: ReadonlyMap<number, string> = new Map(
    Object.entries(generated)
        .filter(([key, value]) => key.startsWith(PREFIX) && typeof value === 'number')
        .map(([key, value]) => [value as number, pascalCase(key.slice(PREFIX.length))]),
);

/** The program's name for custom error `code` (`BelowMinimum` for 6015); undefined if not its own. */
export function uplineErrorName(code: number): string | undefined {
    return UPLINE_ERROR_NAMES.get(code);
}

/** The program's message for custom error `code`, from the IDL. */
export function uplineErrorMessage(code: number): string | undefined {
    return UPLINE_ERROR_NAMES.has(code) ? generated.getUplineErrorMessage(code as generated.UplineError) : undefined;
}

/**
 * The custom program error carried by `error`, wherever the client put it:
 * a @solana/kit `SolanaError` (preflight failures and failed confirmations,
 * possibly wrapped as `cause`), or a raw transaction error
 * `{InstructionError: [index, {Custom: code}]}` as simulateTransaction and
 * getSignatureStatuses return it.
 */
export function customErrorCode(error: unknown): number | undefined {
    const seen = new Set<unknown>();
    let current: unknown = error;
    while (current !== null && current !== undefined && !seen.has(current)) {
        seen.add(current);
        if (isSolanaError(current, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) return current.context.code;
        const raw = rawCustomCode(current);
        if (raw !== undefined) return raw;
        current = (current as { cause?: unknown }).cause;
    }
    return undefined;
}

function rawCustomCode(value: unknown): number | undefined {
    const failure = (value as { InstructionError?: unknown })?.InstructionError;
    if (!Array.isArray(failure)) return undefined;
    const custom = (failure[1] as { Custom?: unknown } | undefined)?.Custom;
    return typeof custom === 'number' ? custom : undefined;
}

/** A transaction the program refused: its error's name, code and message, with what was being done. */
export class UplineProgramError extends Error {
    constructor(
        /** What was attempted, in the user's terms ("claim 0.5 CXPT"). */
        readonly action: string,
        /** The program's name for the refusal (`BelowMinimum`). */
        readonly errorName: string,
        /** The custom error code (6015). */
        readonly code: number,
        detail: string,
        options?: { cause?: unknown },
    ) {
        super(`${action}: ${detail} (${errorName})`, options);
        this.name = 'UplineProgramError';
    }
}

/**
 * Re-throw `error` as an `UplineProgramError` when it carries one of the
 * program's errors (`detail` may say it in the user's terms, else the IDL's
 * message is used); any other error is thrown unchanged.
 */
export function rethrowNamed(error: unknown, action: string, detail?: (name: string) => string | undefined): never {
    const code = customErrorCode(error);
    const name = code === undefined ? undefined : uplineErrorName(code);
    if (code !== undefined && name !== undefined) {
        const text = detail?.(name) ?? uplineErrorMessage(code) ?? name;
        throw new UplineProgramError(action, name, code, text, { cause: error });
    }
    throw error;
}
