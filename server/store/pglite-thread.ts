import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';

/*
 * PGlite is Postgres compiled to WebAssembly and runs on the thread that opens it. Opened on the
 * main thread, every call-log batch and every write would stall request handling. So it runs on a
 * worker thread, and this client forwards queries to it; the Kysely PGlite dialect only needs
 * query() and close(), and it already serializes access to the single connection.
 */

interface QueryResult {
  rows: unknown[];
  affectedRows?: number;
}

interface Reply {
  id: number;
  result?: QueryResult;
  error?: { message: string; code?: string; detail?: string };
}

/** The worker's body. It is sent as source text, so it must not use anything from this module's scope. */
function workerMain(): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  // Resolved by the parent: an eval worker resolves bare names from the process's cwd, not from here.
  const { PGlite } = require(workerData.pglitePath as string) as typeof import('@electric-sql/pglite');
  const port = parentPort!;
  const ready = PGlite.create(workerData.dataPath as string, {
    postgresqlconf: [`shared_buffers=${workerData.sharedBuffers as string}`],
  });
  ready.then(
    () => port.postMessage({ id: 0, result: { rows: [] } }),
    (error: Error) => port.postMessage({ id: 0, error: { message: error.message } }),
  );
  port.on('message', async (message: { id: number; sql?: string; params?: unknown[]; close?: boolean }) => {
    try {
      const db = await ready;
      if (message.close) {
        await db.close();
        port.postMessage({ id: message.id, result: { rows: [] } });
        port.close();
        return;
      }
      const result = await db.query(message.sql!, message.params ?? []);
      port.postMessage({ id: message.id, result: { rows: result.rows, affectedRows: result.affectedRows } });
    } catch (error) {
      const failure = error as { message: string; code?: string; detail?: string };
      port.postMessage({
        id: message.id,
        error: { message: failure.message, code: failure.code, detail: failure.detail },
      });
    }
  });
}

/**
 * PGlite's shared_buffers unless configured. Postgres's 128MB default costs about 100MB of idle
 * memory in the wasm heap, for tables that fit in 32MB many times over (docs/operations.md).
 */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '32MB';

/** Runs initdb for `dataPath` in a child process that exits when it is done. */
async function initialiseInChildProcess(dataPath: string): Promise<void> {
  const script = `
    const [pglitePath, dataPath] = process.argv.slice(-2);
    require(pglitePath).PGlite.create(dataPath).then((db) => db.close()).catch((error) => {
      process.stderr.write(String(error && error.message));
      process.exit(1);
    });`;
  try {
    await promisify(execFile)(process.execPath, ['-e', script, require.resolve('@electric-sql/pglite'), dataPath]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    throw new Error(`initialising the embedded store in ${dataPath} failed: ${stderr || (error as Error).message}`);
  }
}

/** A database error from the worker, with the SQLSTATE code Postgres gave it. */
export class PGliteQueryError extends Error {
  readonly code: string | undefined;
  readonly detail: string | undefined;
  constructor(failure: { message: string; code?: string; detail?: string }) {
    super(failure.message);
    this.name = 'PGliteQueryError';
    this.code = failure.code;
    this.detail = failure.detail;
  }
}

/** A PGlite on its own thread, with the part of PGlite's interface the Kysely dialect uses. */
export class PGliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(result: QueryResult): void; reject(error: Error): void }>();
  #nextId = 1;
  #failure: Error | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: Reply) => {
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (reply.error) waiter.reject(new PGliteQueryError(reply.error));
      else waiter.resolve(reply.result!);
    });
    const failAll = (error: Error) => {
      this.#failure = error;
      for (const waiter of this.#pending.values()) waiter.reject(error);
      this.#pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', () => failAll(new Error('the PGlite worker has stopped')));
  }

  /**
   * Starts the worker and opens the cluster in `dataPath`. An empty `dataPath` is initialised first
   * in a short-lived child process: initdb grows the wasm memory to several hundred MB, and neither
   * wasm memory nor a finished worker's heap goes back to the system while this process lives.
   */
  static async open(dataPath: string, options: { sharedBuffers?: string } = {}): Promise<PGliteThread> {
    if (!existsSync(join(dataPath, 'PG_VERSION'))) await initialiseInChildProcess(dataPath);
    return PGliteThread.#start(dataPath, options.sharedBuffers ?? DEFAULT_PGLITE_SHARED_BUFFERS);
  }

  static async #start(dataPath: string, sharedBuffers: string): Promise<PGliteThread> {
    const worker = new Worker(`(${workerMain.toString()})()`, {
      eval: true,
      workerData: { dataPath, sharedBuffers, pglitePath: require.resolve('@electric-sql/pglite') },
    });
    const thread = new PGliteThread(worker);
    await new Promise<void>((resolve, reject) => thread.#pending.set(0, { resolve: () => resolve(), reject }));
    return thread;
  }

  /** Seconds the thread has spent running (not waiting for work) since it started. */
  busySeconds(): number {
    return this.#worker.performance.eventLoopUtilization().active / 1000;
  }

  /** Runs one statement with parameters. */
  query(sql: string, params: unknown[] = []): Promise<QueryResult> {
    return this.#send({ sql, params });
  }

  /** Closes the cluster cleanly and stops the worker. */
  async close(): Promise<void> {
    if (this.#failure) return;
    await this.#send({ close: true });
    await this.#worker.terminate();
  }

  #send(message: { sql?: string; params?: unknown[]; close?: boolean }): Promise<QueryResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...message });
    });
  }
}
