#!/usr/bin/env node
// @ts-check
/*
 * Builds the web console (console/, Preact + htm) into one directory the server serves at /console:
 *   node scripts/build-console.mjs [OUT_DIR]      (default dist/console; `npm run build` runs it)
 *
 * esbuild bundles and minifies console/main.ts with its CSS into assets/main-<hash>.js and .css,
 * and index.html names both. Nothing is loaded from anywhere else at run time. The first load's
 * gzipped size is printed, and written to build.json for the test that holds it under 200 KB.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, 'dist', 'console'));

/** The one page: no inline script or style, so the strict Content-Security-Policy holds. */
function indexHtml(script, stylesheet) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>keyward console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/${stylesheet}">
<script type="module" src="/console/${script}"></script>
</head>
<body>
<div id="app"><main class="boot"><p>Loading the keyward console…</p></main></div>
<noscript><p>The keyward console needs JavaScript. The same operations are in the API (/docs) and the keyward CLI.</p></noscript>
</body>
</html>
`;
}

/** Builds the console into `out`; returns the first load's files and gzipped size. */
export async function buildConsole(out = OUT) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, 'console', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    platform: 'browser',
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  const files = [];
  for (const file of result.outputFiles) {
    writeFileSync(file.path, file.contents);
    files.push({
      name: `assets/${basename(file.path)}`,
      bytes: file.contents.length,
      gzipBytes: gzipSync(file.contents, { level: 9 }).length,
    });
  }
  const script = files.find((file) => file.name.endsWith('.js'));
  const stylesheet = files.find((file) => file.name.endsWith('.css'));
  if (!script || !stylesheet) throw new Error('the console build made no script or no stylesheet');
  const html = Buffer.from(indexHtml(script.name, stylesheet.name));
  writeFileSync(join(out, 'index.html'), html);
  files.push({ name: 'index.html', bytes: html.length, gzipBytes: gzipSync(html, { level: 9 }).length });
  const firstLoadGzipBytes = files.reduce((sum, file) => sum + file.gzipBytes, 0);
  const report = { files, firstLoadGzipBytes };
  writeFileSync(join(out, 'build.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await buildConsole();
  process.stdout.write(
    `console: ${report.files.map((file) => `${file.name} ${(file.gzipBytes / 1024).toFixed(1)} KB gz`).join(', ')}; first load ${(report.firstLoadGzipBytes / 1024).toFixed(1)} KB gzipped\n`,
  );
}
