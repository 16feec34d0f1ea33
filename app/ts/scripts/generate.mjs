#!/usr/bin/env node
// Generates src/generated (a @solana/kit client) from the committed IDL
// (../../idl/upline.json) with Codama. `--check` renders into a temporary
// folder instead and exits 1, naming the files, when the committed code differs:
// CI runs it so the generated client never drifts from the IDL.
import { createFromRoot, updateDefinedTypesVisitor } from 'codama';
import { rootNodeFromAnchor } from '@codama/nodes-from-anchor';
import { renderVisitor } from '@codama/renderers-js';
import { resolveConfig } from 'prettier';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageFolder = join(dirname(fileURLToPath(import.meta.url)), '..');
const idlPath = join(packageFolder, '..', '..', 'idl', 'upline.json');
const check = process.argv.includes('--check');

const idl = JSON.parse(readFileSync(idlPath, 'utf8'));
const codama = createFromRoot(rootNodeFromAnchor(idl));
// The account `Model` already gets a `ModelArgs` type (its encoder's input);
// the instruction argument struct of the same name becomes `ModelSettings`.
codama.update(updateDefinedTypesVisitor({ modelArgs: { name: 'modelSettings' } }));
const target = check ? mkdtempSync(join(tmpdir(), 'upline-codegen-')) : packageFolder;
// The package's dependencies are ours to pin (package.json + lock file), so
// the renderer must not rewrite package.json.
// The package's own Prettier settings, resolved here so that the check (which
// renders outside the package) formats exactly as a real run does.
const prettierOptions = (await resolveConfig(join(packageFolder, 'src', 'index.ts'))) ?? {};
await codama.accept(renderVisitor(target, { syncPackageJson: false, kitImportStrategy: 'rootOnly', prettierOptions }));
const generated = join(target, 'src/generated');
for (const name of files(generated).filter((n) => n.endsWith('.ts'))) {
    const path = join(generated, name);
    writeFileSync(path, withPluginType(withExtensions(path, readFileSync(path, 'utf8'))));
}

if (!check) {
    console.log(
        `generated ${relative(process.cwd(), join(target, 'src/generated'))} from ${relative(process.cwd(), idlPath)}`,
    );
    process.exit(0);
}

/**
 * The renderer writes relative imports without extensions (`from "../types"`),
 * which bundlers accept but Node's ES module loader does not; name the file
 * each one means (`"../types/index.js"`), so the compiled package runs on
 * plain Node as well as in bundlers.
 */
function withExtensions(path, text) {
    return text.replace(/(from\s+)(["'])(\.{1,2}(?:\/[^"']*)?)\2/g, (whole, from, quote, specifier) => {
        const base = resolve(dirname(path), specifier);
        if (existsSync(`${base}.ts`)) return `${from}${quote}${specifier}.js${quote}`;
        if (existsSync(join(base, 'index.ts'))) {
            const dir = specifier.endsWith('/') ? specifier : `${specifier}/`;
            return `${from}${quote}${dir}index.js${quote}`;
        }
        throw new Error(`${path}: cannot resolve the import ${specifier}`);
    });
}

/**
 * renderers-js 2.2.0 (the newest on the registry) declares the program
 * plugin's return type as `Omit<T, "upline"> & {...}`, which @solana/kit's
 * `extendClient` no longer satisfies; later renderers (those that generated
 * @solana-program/token 0.16) declare `ExtendedClient<T, {...}>`. Do the same.
 */
function withPluginType(text) {
    const declared = /\):\s*Omit<T,\s*["']upline["']>\s*&\s*\{\s*upline:\s*UplinePlugin;?\s*\}\s*=>/;
    if (!declared.test(text)) return text;
    const imported = /(\s+)type ClientWithRpc,/;
    if (!imported.test(text))
        throw new Error('programs/upline.ts: the plugin is there but not its ClientWithRpc import');
    return text
        .replace(declared, '): ExtendedClient<T, { upline: UplinePlugin }> =>')
        .replace(imported, '$1type ClientWithRpc,$1type ExtendedClient,');
}

/** Every file below `root`, as paths relative to it. */
function files(root, dir = root) {
    let out = [];
    let entries = [];
    try {
        entries = readdirSync(dir);
    } catch {
        return out;
    }
    for (const name of entries) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) out = out.concat(files(root, path));
        else out.push(relative(root, path));
    }
    return out.sort();
}

const fresh = join(target, 'src/generated');
const committed = join(packageFolder, 'src/generated');
const names = [...new Set([...files(fresh), ...files(committed)])].sort();
const stale = names.filter((name) => {
    const read = (root) => {
        try {
            return readFileSync(join(root, name), 'utf8');
        } catch {
            return null;
        }
    };
    return read(fresh) !== read(committed);
});
rmSync(target, { recursive: true, force: true });
if (stale.length > 0) {
    console.error(`app/ts/src/generated is not what idl/upline.json generates; differing files:`);
    for (const name of stale) console.error(`  ${name}`);
    console.error('run `npm run generate` in app/ts and commit the result');
    process.exit(1);
}
console.log(`app/ts/src/generated matches idl/upline.json (${names.length} files)`);
