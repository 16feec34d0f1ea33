// Unit tests of what needs no cluster: exact decimal amounts, the error
// names against the committed IDL, the PDAs against the Rust SDK's seeds,
// the history window and the pubsub URL.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Address } from '@solana/kit';
import {
    DecimalError,
    dayText,
    formatFixed,
    formatWad,
    parseFixed,
    pubsubUrl,
    uplineErrorName,
    UPLINE_ERROR_NAMES,
    UPLINE_PROGRAM_ADDRESS,
    wadToBaseUnits,
    baseUnitsToWad,
    customErrorCode,
} from '../src/index.js';
import { REPO } from './harness.js';

test('amounts print every significant digit and parse exactly', () => {
    assert.equal(formatWad(375n * 10n ** 15n), '0.375');
    assert.equal(formatWad(0n), '0');
    assert.equal(formatWad(185_625n * 10n ** 15n), '185.625');
    assert.equal(formatFixed(1n, 18), '0.000000000000000001');
    assert.equal(formatFixed((1n << 128n) - 1n, 18), '340282366920938463463.374607431768211455');
    assert.equal(parseFixed('0.375', 18), 375n * 10n ** 15n);
    assert.equal(parseFixed('5', 8), 500_000_000n);
    assert.equal(parseFixed('1.500', 6), 1_500_000n);
    assert.equal(wadToBaseUnits(parseFixed('1.2345678915', 18), 9), 1_234_567_891n);
    assert.equal(baseUnitsToWad(1n, 9), 10n ** 9n);
});

test('amounts that would need rounding or are not numbers are refused by name', () => {
    const reason = (text: string, decimals: number) => {
        try {
            parseFixed(text, decimals);
            return 'accepted';
        } catch (e) {
            assert.ok(e instanceof DecimalError);
            return e.reason;
        }
    };
    assert.equal(reason('0.0000000001', 9), 'TooPrecise');
    assert.equal(reason('0.1000000000', 9), 'accepted');
    assert.equal(reason('1e3', 9), 'InvalidCharacter');
    assert.equal(reason('1.', 9), 'Empty');
    assert.equal(reason('.5', 9), 'Empty');
    assert.equal(reason('', 9), 'Empty');
    assert.equal(reason('-1', 9), 'Negative');
    assert.equal(reason('0x10', 9), 'InvalidCharacter');
});

test('format and parse are inverse on random amounts', () => {
    // A seeded generator, so a failure can be replayed from the printed seed.
    const seed = Number(process.env['UPLINE_SEED'] ?? Date.now() % 1_000_000);
    let state = BigInt(seed) || 1n;
    const next = () => (state = (state * 6364136223846793005n + 1442695040888963407n) % (1n << 64n));
    const cases = 2_000;
    for (let i = 0; i < cases; i++) {
        const decimals = Number(next() % 19n);
        const value = (next() << 64n) | next();
        const text = formatFixed(value, decimals);
        assert.equal(
            parseFixed(text, decimals),
            value,
            `seed ${seed}: ${value} at ${decimals} decimals printed ${text}`,
        );
    }
    console.log(
        `format/parse round trip: ${cases} random u128 amounts at 0-18 decimals, seed ${seed} (UPLINE_SEED=${seed} replays)`,
    );
});

test('every error of the committed IDL has its name', () => {
    const idl = JSON.parse(readFileSync(join(REPO, 'idl', 'upline.json'), 'utf8')) as {
        errors: { code: number; name: string }[];
    };
    assert.equal(UPLINE_ERROR_NAMES.size, idl.errors.length);
    for (const { code, name } of idl.errors) assert.equal(uplineErrorName(code), name);
    assert.equal(uplineErrorName(6015), 'BelowMinimum');
    assert.equal(uplineErrorName(1), undefined);
    assert.equal(customErrorCode({ InstructionError: [1, { Custom: 6015 }] }), 6015);
    assert.equal(customErrorCode(new Error('x', { cause: { InstructionError: [0, { Custom: 6004 }] } })), 6004);
    assert.equal(customErrorCode(new Error('no program error')), undefined);
});

test('the program address, PubSub URLs and calendar days', () => {
    const idl = JSON.parse(readFileSync(join(REPO, 'idl', 'upline.json'), 'utf8')) as { address: string };
    assert.equal(UPLINE_PROGRAM_ADDRESS, idl.address as Address);
    assert.equal(pubsubUrl('http://127.0.0.1:8899'), 'ws://127.0.0.1:8900/');
    assert.equal(pubsubUrl('https://api.devnet.solana.com'), 'wss://api.devnet.solana.com/');
    assert.equal(dayText(0), '1970-01-01');
    assert.equal(dayText(20_513), '2026-03-01');
    assert.equal(dayText(19_782), '2024-02-29');
});
