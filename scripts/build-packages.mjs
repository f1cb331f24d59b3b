#!/usr/bin/env node
// @ts-check
/*
 * Builds the published workspace packages from the checkout's compiled output (dist/, made by
 * `tsc -p tsconfig.build.json` and `tsc -p tsconfig.cdktf.json`, which `npm run build` runs first):
 *   node scripts/build-packages.mjs [sdk|pulumi|cdktf]...   (no argument: all three)
 *
 * @keyward/sdk: esbuild bundles the JS (ESM with shared chunks, and CommonJS) so zod, ipaddr.js,
 * proxy-addr, lru-cache and structured-headers are inlined and tree-shaken; axios stays a
 * dependency. zod alone is 8.2 MB installed, too much for a 5 MB SDK install. tsc's declarations
 * are copied, and every type they take from a bundled package (zod, ipaddr.js, structured-headers)
 * points at a copy of that package's own published .d.ts/.d.cts files (with its licence) under
 * dist/types/vendor/, so a TypeScript user without zod installed still gets the full types.
 * @keyward/pulumi and @keyward/cdktf: tsc's output for provider/pulumi and provider/cdktf, whose
 * declarations name the SDK's schema types through @keyward/sdk.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');

/** The packages whose types we copy rather than depend on: exactly the ones bundled into the SDK's JS. */
const VENDORED_TYPES = ['zod', 'ipaddr.js', 'structured-headers'];
/** Bare specifiers the SDK's declarations may keep: its dependency, its optional peers and Node's own. */
const KEPT_TYPES = ['axios', 'express', 'express-serve-static-core', 'fastify'];

/*
 * zod's `z` is a namespace re-exported by name, and esbuild keeps all of zod (every locale included)
 * behind `import { z } from 'zod'`: 582 KB for a single z.object, against 124 KB through
 * `import * as z from 'zod'`, which names the same namespace. The bundler reads our sources that way.
 */
const zodNamespace = {
  name: 'zod-namespace-import',
  setup(build) {
    build.onLoad({ filter: /[\\/](schema|sdk)[\\/][^\\/]+\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(/^import \{ z \} from 'zod';$/m, "import * as z from 'zod';"),
      loader: 'ts',
    }));
  },
};

/** Every file under a directory, as paths relative to it. */
function walk(directory, prefix = '') {
  return readdirSync(join(directory, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(directory, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );
}

/** Writes a file, making its directory first. */
function put(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A specifier as written in a relative import: forward slashes, and `./` when it would not start with a dot. */
function relativeSpecifier(from, to) {
  const path = relative(dirname(from), to).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** The JS specifier that makes TypeScript load this declaration file (x.d.cts is named x.cjs, x.d.ts x.js). */
function jsNameOf(declaration) {
  return declaration
    .replace(/\.d\.cts$/, '.cjs')
    .replace(/\.d\.mts$/, '.mjs')
    .replace(/\.d\.ts$/, '.js');
}

/* Module specifiers in declaration files: `from '…'`, `import '…'`, `import('…')`, `declare module '…'` is left alone. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\2/g;

function assertBuilt(file) {
  if (!existsSync(join(DIST, file)))
    throw new Error(`dist/${file} is missing: run \`npm run build\` at the repository root first`);
}

/**
 * Some packages (ipaddr.js) declare their types as an ambient `declare module "<name>" { … }`,
 * which only a bare import of that name can see. Copied, such a file becomes a module of its own:
 * the wrapper goes, and its top-level declarations get the `declare` a declaration file needs.
 */
function asModule(text, name) {
  const wrapped = new RegExp(
    `^\\s*declare module ["']${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["'] \\{\\n([\\s\\S]*)\\}\\s*$`,
  ).exec(text);
  if (!wrapped?.[1]) return text;
  const body = wrapped[1].replace(/^ {4}/gm, '');
  return body.replace(/^(type|interface|class|namespace|function|const|let|var|enum|abstract class) /gm, 'declare $1 ');
}

/**
 * Copies the declaration file a bare specifier resolves to (CommonJS resolution, like our own
 * declarations) and every file it reaches, into vendor/<package>/; returns the copy of the entry.
 */
function vendorTypes(specifier, fromFile, vendorDir, copied) {
  const options = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 };
  const resolveFrom = (spec, from) =>
    ts.resolveModuleName(spec, from, options, ts.sys, undefined, undefined, ts.ModuleKind.CommonJS).resolvedModule;
  const entry = resolveFrom(specifier, fromFile);
  if (!entry?.packageId) throw new Error(`cannot resolve the types of ${specifier} from ${fromFile}`);
  const name = entry.packageId.name;
  const packageDir = entry.resolvedFileName.slice(0, -entry.packageId.subModuleName.length);
  const target = join(vendorDir, name);
  const copyOf = (file) => join(target, relative(packageDir, file));
  if (!existsSync(join(target, 'package.json'))) {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    // Only "type" matters to TypeScript here: it decides whether a copied .d.ts is ESM or CommonJS.
    put(
      join(target, 'package.json'),
      `${JSON.stringify({ description: `Type declarations of ${name}@${manifest.version}, copied by @keyward/sdk (${manifest.license}).`, type: manifest.type ?? 'commonjs' }, null, 2)}\n`,
    );
    for (const file of readdirSync(packageDir).filter((file) => /^licen[cs]e/i.test(file)))
      copyFileSync(join(packageDir, file), join(target, file));
  }
  const pending = [entry.resolvedFileName];
  while (pending.length > 0) {
    const file = /** @type {string} */ (pending.pop());
    if (copied.has(file)) continue;
    copied.add(file);
    const text = readFileSync(file, 'utf8').replace(SPECIFIER, (whole, lead, quote, spec) => {
      if (spec.startsWith('.')) {
        const found = resolveFrom(spec, file);
        if (!found) throw new Error(`cannot resolve ${spec} from ${file}`);
        pending.push(found.resolvedFileName);
        return whole;
      }
      if (spec.startsWith('node:')) return whole;
      const vendored = vendorTypes(spec, file, vendorDir, copied);
      return `${lead}${quote}${relativeSpecifier(copyOf(file), jsNameOf(vendored))}${quote}`;
    });
    put(copyOf(file), asModule(text, name));
  }
  return copyOf(entry.resolvedFileName);
}

/** Copies tsc's declarations for `sources` (dirs under dist/) into `typesDir`, pointing bundled packages at vendored copies. */
function copyDeclarations(sources, typesDir) {
  const copied = new Set();
  const vendorDir = join(typesDir, 'vendor');
  for (const source of sources)
    for (const file of walk(join(DIST, source)).filter((name) => name.endsWith('.d.ts'))) {
      const from = join(DIST, source, file);
      const to = join(typesDir, source, file);
      const text = readFileSync(from, 'utf8').replace(SPECIFIER, (whole, lead, quote, spec) => {
        if (spec.startsWith('.') || spec.startsWith('node:') || KEPT_TYPES.includes(spec)) return whole;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!VENDORED_TYPES.includes(name ?? ''))
          throw new Error(`${source}/${file} names ${spec}: add it to VENDORED_TYPES or KEPT_TYPES`);
        return `${lead}${quote}${relativeSpecifier(to, jsNameOf(vendorTypes(spec, from, vendorDir, copied)))}${quote}`;
      });
      put(to, text);
    }
}

/** The licences of the packages esbuild inlined, for the bundle's notice file. */
function thirdPartyNotices(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input.slice(input.lastIndexOf('node_modules/')));
    if (!match?.[1]) continue;
    const dir = join(ROOT, input.slice(0, input.lastIndexOf('node_modules/')), 'node_modules', match[1]);
    packages.set(`${match[1]}@${JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version}`, dir);
  }
  return [...packages]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, dir]) => {
      const licence = readdirSync(dir).find((file) => /^licen[cs]e/i.test(file));
      return `## ${id}\n\n${licence ? readFileSync(join(dir, licence), 'utf8').trim() : '(no licence file)'}\n`;
    })
    .join('\n');
}

async function buildSdk() {
  assertBuilt('sdk/index.d.ts');
  const out = join(ROOT, 'packages', 'sdk', 'dist');
  rmSync(out, { recursive: true, force: true });
  const entries = {
    index: join(ROOT, 'sdk/index.ts'),
    express: join(ROOT, 'sdk/express.ts'),
    fastify: join(ROOT, 'sdk/fastify.ts'),
    schema: join(ROOT, 'schema/index.ts'),
  };
  const common = /** @type {const} */ ({
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: ['axios', 'express', 'fastify'],
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true, // error classes and stack traces keep their names
    legalComments: 'none', // the notices file carries the licences
    metafile: true,
    plugins: [zodNamespace],
    logLevel: 'warning',
  });
  // ESM: one file per entry, sharing chunks, so `@keyward/sdk` and `@keyward/sdk/express` share one client class.
  const esm = await build({
    ...common,
    entryPoints: entries,
    format: 'esm',
    splitting: true,
    outdir: join(out, 'esm'),
    outExtension: { '.js': '.mjs' },
    chunkNames: 'shared-[hash]',
  });
  // CommonJS cannot share chunks: one bundle holds every entry, and each entry file picks its part.
  const cjs = await build({
    ...common,
    stdin: {
      contents: Object.entries(entries)
        .map(([name, path]) => `export * as ${name} from ${JSON.stringify(path)};`)
        .join('\n'),
      resolveDir: ROOT,
      sourcefile: 'keyward-sdk-entries.ts',
      loader: 'ts',
    },
    format: 'cjs',
    outfile: join(out, 'cjs', 'bundle.cjs'),
  });
  for (const name of Object.keys(entries))
    put(join(out, 'cjs', `${name}.cjs`), `'use strict';\nmodule.exports = require('./bundle.cjs').${name};\n`);
  put(
    join(out, 'THIRD-PARTY-NOTICES.md'),
    `# Bundled into @keyward/sdk's JavaScript\n\n${thirdPartyNotices({ inputs: { ...esm.metafile.inputs, ...cjs.metafile.inputs } })}`,
  );
  copyDeclarations(['sdk', 'schema'], join(out, 'types'));
}

/** Copies one compiled directory's .js and .d.ts files (no maps: they point at sources not shipped). */
function copyCompiled(source, target, skip = () => false) {
  for (const file of walk(join(DIST, source)))
    if (/\.(js|d\.ts)$/.test(file) && !skip(file)) copyFileSync(join(DIST, source, file), mkdirFor(join(target, file)));
}

function mkdirFor(path) {
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

function buildPulumi() {
  assertBuilt('provider/pulumi/index.d.ts');
  const out = join(ROOT, 'packages', 'pulumi', 'dist');
  rmSync(out, { recursive: true, force: true });
  copyCompiled('provider/pulumi', out);
  // The declarations name the schema's types by path; in the package they come from @keyward/sdk.
  for (const file of walk(out).filter((name) => name.endsWith('.d.ts'))) {
    const path = join(out, file);
    const text = readFileSync(path, 'utf8').replace(SPECIFIER, (whole, lead, quote, spec) => {
      if (spec === '../../schema') return `${lead}${quote}@keyward/sdk/schema${quote}`;
      if (spec === 'zod') return `${lead}${quote}@keyward/sdk/zod${quote}`;
      if (spec.startsWith('.') || spec.startsWith('node:') || spec === '@pulumi/pulumi') return whole;
      throw new Error(`provider/pulumi/${file} names ${spec}, which @keyward/pulumi does not depend on`);
    });
    writeFileSync(path, text);
  }
  for (const file of walk(out).filter((name) => name.endsWith('.js'))) {
    const text = readFileSync(join(out, file), 'utf8');
    const escaping = /require\((['"])(\.\.\/\.\.[^'"]*|keyward[^'"]*)\1\)/.exec(text);
    if (escaping) throw new Error(`provider/pulumi/${file} requires ${escaping[2]}, outside @keyward/pulumi`);
  }
}

function buildCdktf() {
  assertBuilt('provider/cdktf/index.d.ts');
  const out = join(ROOT, 'packages', 'cdktf', 'dist');
  rmSync(out, { recursive: true, force: true });
  // generate.js is the generator the checkout runs, not part of the bindings.
  copyCompiled('provider/cdktf', out, (file) => file.startsWith('generate.'));
}

const builders = { sdk: buildSdk, pulumi: buildPulumi, cdktf: buildCdktf };
const wanted = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(builders);
for (const name of wanted) {
  const builder = builders[/** @type {keyof typeof builders} */ (name)];
  if (!builder) throw new Error(`unknown package ${name}: one of ${Object.keys(builders).join(', ')}`);
  await builder();
}
