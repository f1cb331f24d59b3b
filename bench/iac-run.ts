import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyward } from '../sdk';
import { benchOptions } from './options';

/*
 * What bench/pulumi and bench/terraform share: their flags, a real `keyward serve`
 * on a fresh data dir for the engine to talk to, and how a table cell prints.
 */

/** The repository's root, from dist/bench. */
export const root = join(__dirname, '..', '..');

/**
 * The flags bench/pulumi and bench/terraform share: `--counts 1,10,100`, the resource counts to
 * time (those three by default), and `--warm-keys N`, keys to create and retire over HTTP before
 * timing, so the engines meet a server whose create path has run as a long-running service's has
 * (0, a freshly started server, by default). `extra` names a bench's own flags.
 */
export function iacOptions<F extends Record<string, 'value' | 'switch'>>(extra: F) {
  const options = benchOptions({ counts: 'value', 'warm-keys': 'value', ...extra });
  return { options, counts: options.numbers('counts', [1, 10, 100]), warmKeys: options.number('warm-keys', 0) };
}

/** Milliseconds as seconds with one decimal, as the tables print them. */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** What an IaC engine's keyward provider needs to reach the bench's server (a type, so it passes as a NodeJS.ProcessEnv). */
export type KeywardEnv = {
  KEYWARD_URL: string;
  KEYWARD_ROOT_KEY: string;
};

/**
 * Starts `keyward serve` on a fresh data dir (prefix `dataDirPrefix`), warms it with `warmKeys`
 * keys (see iacOptions), runs `measure` with the environment that reaches it, then stops the
 * server and removes the data dir.
 */
export async function withKeywardServer(
  dataDirPrefix: string,
  warmKeys: number,
  measure: (env: KeywardEnv) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  const server = await serve(dataDir);
  const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
  try {
    if (warmKeys > 0) {
      const client = new Keyward({ baseUrl: server.url, rootKey });
      // Ten at a time, as the engines create them.
      for (let done = 0; done < warmKeys; done += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, warmKeys - done) }, async (_, index) => {
            const key = await client.keys.create({ name: `warm-up ${done + index}`, scopes: ['contacts:read'] });
            await client.keys.retire(key.id, { gracePeriodSeconds: 0 });
          }),
        );
      }
    }
    await measure({ KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey });
  } finally {
    server.child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs a bench's main; on failure prints the error and exits with status 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/** One sample's value from a keyward server's /metrics (a metric without labels), or null where there is none. */
export async function metricSample(url: string, name: string): Promise<number | null> {
  try {
    const response = await fetch(`${url}/metrics`);
    if (!response.ok) return null;
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(await response.text());
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Starts `keyward serve` on a free port; resolves once it listens and, on a first start, has written its root key. */
export function serve(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'keyward.js'), 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH, ...env, KEYWARD_DATA_DIR: dataDir, KEYWARD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] && (!out.includes('First start') || out.includes('(mode 0600)')))
        resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`keyward serve exited with ${code}: ${out}`)));
  });
}
