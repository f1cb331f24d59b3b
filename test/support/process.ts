import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TEST_STORE } from './harness';

export const CLI = join(__dirname, '../../bin/keyward.js');

/** A `keyward serve` child process, as a user starts it. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** How to start the CLI: the checkout's by default; an installed package's with `npx keyward` from its project. */
export interface Launcher {
  command: string;
  args: string[];
  cwd?: string;
}

/** Starts `keyward serve --port 0` and waits until it prints where it listens. */
export function spawnServe(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
  launcher: Launcher = { command: process.execPath, args: [CLI] },
): Promise<ServeProcess> {
  // Started from the data dir, not the checkout, as a user would: nothing may depend on the cwd.
  const cwd = launcher.cwd ?? env.KEYWARD_DATA_DIR ?? process.cwd();
  // A launcher such as npx runs the server as its grandchild: give it a process group to stop as one.
  const group = launcher.command !== process.execPath;
  const child = spawn(launcher.command, [...launcher.args, 'serve', '--port', '0', ...args], {
    cwd,
    detached: group,
    env: { ...env, KEYWARD_LOG_LEVEL: env.KEYWARD_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk) => {
    err += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`keyward serve did not start in time:\n${out}\n${err}`)),
      timeoutMs,
    );
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`keyward serve exited with ${code}:\n${out}\n${err}`));
    });
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /keyward listening on (http:\/\/\S+)/.exec(out);
      const bannerDone = !out.includes('First start') || out.includes('(mode 0600)');
      if (match?.[1] && bannerDone) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1],
          stdout: () => out,
          stderr: () => err,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) {
              if (group && child.pid) process.kill(-child.pid, signal);
              else child.kill(signal);
            }
            return exited;
          },
        });
      }
    });
  });
}

/** The environment a user's shell gives the CLI for a test server: its URL and root key, and a HOME of its own. */
export function cliEnv(server: { url: string; rootKey: string; dataDir: string }): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: server.dataDir, KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: server.rootKey };
}

/** Runs `keyward <args> --json` and returns what it printed, parsed; a non-zero exit throws with the CLI's stderr. */
export async function cliJson(env: NodeJS.ProcessEnv, ...args: string[]): Promise<ReturnType<typeof JSON.parse>> {
  const run = await runCli([...args, '--json'], env);
  if (run.code !== 0) throw new Error(`keyward ${args.join(' ')} exited ${run.code}: ${run.err}`);
  return JSON.parse(run.out);
}

/** Runs the CLI to completion, asynchronously (an in-process server must keep answering); `input` is piped to its stdin. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    // Without input, stdin ends at once, as /dev/null would; a child that exits first is no error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.stderr.on('data', (chunk) => (err += String(chunk)));
    child.once('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/**
 * A data dir and environment for `keyward serve` children, on the suite's store (a fresh Postgres
 * database when KEYWARD_TEST_STORE=postgres). Call `cleanup` in afterAll.
 */
export async function serveEnvironment(
  prefix: string,
): Promise<{ dataDir: string; env: NodeJS.ProcessEnv; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dataDir, KEYWARD_DATA_DIR: dataDir };
  const database = TEST_STORE === 'postgres' ? await createTestDatabase() : undefined;
  if (database) env.DATABASE_URL = database.url;
  return {
    dataDir,
    env,
    async cleanup() {
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
