import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/*
 * The built console (scripts/build-console.mjs writes it; `npm run build` runs that): index.html
 * and content-hashed files under assets/. They are read into memory once, with a gzipped copy of
 * each, so a page load never touches the disk and nothing is fetched from anywhere else.
 */

/** One file of the console, ready to send. */
export interface ConsoleAsset {
  body: Buffer;
  gzipped: Buffer;
  contentType: string;
  etag: string;
}

/** The console's files by URL path under /console/ (`index.html`, `assets/main-XXXX.js`…). */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Where the built console is when no KEYWARD_CONSOLE_DIR says: dist/console beside the compiled
 * server (dist/server/console/ → dist/console), or under dist/ when the server runs from source.
 */
export function defaultConsoleDir(): string {
  const root = resolve(__dirname, '..', '..');
  return basename(root) === 'dist' ? join(root, 'console') : join(root, 'dist', 'console');
}

/** Whether `dir` holds a built console. */
export function consoleBuilt(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** Reads every file of a built console into memory; an empty map when it has not been built. */
export function loadConsoleAssets(dir: string): ConsoleAssets {
  const assets = new Map<string, ConsoleAsset>();
  if (!consoleBuilt(dir)) return assets;
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      if (statSync(join(dir, path)).isDirectory()) {
        walk(path);
        continue;
      }
      const contentType = CONTENT_TYPES[extname(name)];
      if (!contentType) continue;
      const body = readFileSync(join(dir, path));
      assets.set(path, {
        body,
        gzipped: gzipSync(body, { level: 9 }),
        contentType,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      });
    }
  };
  walk('');
  return assets;
}
