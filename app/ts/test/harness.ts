// What the end-to-end tests share: `upline sandbox` on a free port (JSON-RPC
// at P, PubSub at P + 1) and the `upline` command run against it with
// per-test keypairs, as app/cli/tests/common does for the Rust tests.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createKeyPairSignerFromBytes, type Address, type KeyPairSigner } from '@solana/kit';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from app/ts/dist/test). */
export const REPO = resolve(here, '..', '..', '..', '..');
/** The `upline` binary: $UPLINE_BIN, else the one `cargo build` leaves in target/debug. */
export const UPLINE = process.env['UPLINE_BIN'] ?? join(REPO, 'target', 'debug', 'upline');

/** Whether `port` can be listened on now. */
function free(port: number): Promise<boolean> {
    return new Promise((done) => {
        const server = createServer();
        server.once('error', () => done(false));
        server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
    });
}

/** A port P with P + 1 free as well (the sandbox's PubSub port). */
async function freePortPair(): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
        const port = await new Promise<number>((done, fail) => {
            const server = createServer();
            server.once('error', fail);
            server.listen(0, '127.0.0.1', () => {
                const address = server.address();
                server.close(() => done(typeof address === 'object' && address ? address.port : 0));
            });
        });
        if (port > 0 && port < 65535 && (await free(port + 1))) return port;
    }
    throw new Error('no two consecutive free ports on 127.0.0.1');
}

/** A command's exit code and output. */
export type Output = { code: number; stdout: string; stderr: string };

/** `upline sandbox --port P`, stopped by `stop()`, with a folder for keypairs and files. */
export class Sandbox {
    private constructor(
        private readonly child: ChildProcess,
        readonly url: string,
        readonly wsUrl: string,
        readonly dir: string,
    ) {}

    static async start(name: string): Promise<Sandbox> {
        const port = await freePortPair();
        const child = spawn(UPLINE, ['sandbox', '--port', String(port)], {
            env: { ...process.env, RUST_LOG: 'error' },
            stdio: ['ignore', 'pipe', 'inherit'],
        });
        const lines = createInterface({ input: child.stdout! });
        const printed: string[] = [];
        const url = await new Promise<string>((done, fail) => {
            const timer = setTimeout(
                () => fail(new Error(`upline sandbox printed no URL in 60 s: ${printed.join('\n')}`)),
                60_000,
            );
            child.once('exit', (code) =>
                fail(new Error(`upline sandbox ended (${code}) before printing its URL: ${printed.join('\n')}`)),
            );
            lines.on('line', (line) => {
                printed.push(line);
                const found = line.split(/\s+/).find((w) => w.startsWith('http://'));
                if (found) {
                    clearTimeout(timer);
                    done(found.replace(/[/);]+$/, ''));
                }
            });
        });
        const dir = mkdtempSync(join(tmpdir(), `upline-ts-${name}-`));
        const ws = new URL(url);
        ws.protocol = 'ws:';
        ws.port = String(Number(ws.port) + 1);
        return new Sandbox(child, url, ws.toString().replace(/\/$/, ''), dir);
    }

    stop(): void {
        this.child.kill();
        rmSync(this.dir, { recursive: true, force: true });
    }

    key(name: string): string {
        return join(this.dir, `${name}.json`);
    }

    /** `upline --url URL --keypair KEY.json ARGS`. */
    run(key: string, args: string[]): Output {
        const out = spawnSync(UPLINE, ['--url', this.url, '--keypair', this.key(key), ...args], {
            encoding: 'utf8',
            env: { ...process.env, RUST_LOG: 'error' },
        });
        return { code: out.status ?? -1, stdout: out.stdout, stderr: out.stderr };
    }

    /** Run and expect success; standard output. */
    ok(key: string, args: string[]): string {
        const out = this.run(key, args);
        if (out.code !== 0) throw new Error(`upline ${args.join(' ')} exited ${out.code}:\n${out.stdout}${out.stderr}`);
        return out.stdout;
    }

    /** A new wallet `name` with 5 SOL from the faucet; its address. */
    wallet(name: string): Address {
        const out = this.ok(name, ['keygen']);
        this.ok(name, ['airdrop', '5']);
        const address = out
            .split('wallet ')[1]
            ?.replace(/[)\n].*$/s, '')
            .trim();
        if (!address) throw new Error(`keygen printed no wallet: ${out}`);
        return address as Address;
    }

    /** The keypair file of `name` as a @solana/kit signer. */
    async signer(name: string): Promise<KeyPairSigner> {
        return createKeyPairSignerFromBytes(this.secret(name));
    }

    /** The 64 bytes of `name`'s keypair file (Solana CLI format). */
    secret(name: string): Uint8Array {
        return new Uint8Array(JSON.parse(readFileSync(this.key(name), 'utf8')) as number[]);
    }

    write(name: string, text: string): string {
        const path = join(this.dir, name);
        writeFileSync(path, text);
        return path;
    }

    /** `network init --preset PRESET --oracle ORACLE` as admin; the network's address. */
    init(preset: string, oracle: Address): Address {
        const out = this.ok('admin', ['network', 'init', '--preset', preset, '--oracle', oracle]);
        const line = out.split('\n').find((l) => l.startsWith('network '));
        const address = line?.slice('network '.length).split(' ').slice(1).join(' ').trim();
        if (!address) throw new Error(`network init printed no network: ${out}`);
        return address as Address;
    }

    /** `member stats --json` of `wallet`: `{wallet, memberships}`. */
    stats(network: Address, wallet: Address): { wallet: string; memberships: Record<string, unknown>[] } {
        return JSON.parse(this.ok('admin', ['member', 'stats', '--network', network, '--wallet', wallet, '--json']));
    }
}

/** A compute report line of the reports file format (app/cli/src/reports.rs). */
export function compute(id: number, provider: Address, model: string): string {
    return `${JSON.stringify({ kind: 'compute', id, provider, service: 'chat', model, tokens: 1000, latency_ms: 5000 })}\n`;
}
