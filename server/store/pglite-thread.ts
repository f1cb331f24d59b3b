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
  const ready = PGlite.create(workerData.dataPath as string);
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

  /** Starts the worker and opens (or initialises) the cluster in `dataPath`. */
  static async open(dataPath: string): Promise<PGliteThread> {
    const worker = new Worker(`(${workerMain.toString()})()`, {
      eval: true,
      workerData: { dataPath, pglitePath: require.resolve('@electric-sql/pglite') },
    });
    const thread = new PGliteThread(worker);
    await new Promise<void>((resolve, reject) => thread.#pending.set(0, { resolve: () => resolve(), reject }));
    return thread;
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
