/*
 * Under concurrent load one turn of the event loop reads the requests of many connections. Answering
 * each as its body ends interleaves the answers' work and writes with the turn's reads; answering
 * them all after the reads costs the server less CPU per request, keyward's verify lane and a bare
 * node:http server alike (docs/benchmarks.md, "Answers at the end of the turn"). A request that
 * arrives alone waits for nothing: the check phase follows the poll phase it came in.
 */

/** Work handed in during one turn of the event loop, run together once the turn's I/O callbacks are done. */
export class EndOfTurn<T> {
  #queued: T[] = [];
  readonly #run: (item: T) => void;

  /** `run` is called once per item, in the order the items came; it must not throw, or the turn's later items would not run. */
  constructor(run: (item: T) => void) {
    this.#run = run;
  }

  /** Queues an item for the end of this turn; an item added while the queue runs waits for the next turn. */
  add(item: T): void {
    if (this.#queued.push(item) === 1) setImmediate(this.#drain);
  }

  readonly #drain = (): void => {
    const items = this.#queued;
    this.#queued = [];
    for (const item of items) this.#run(item);
  };
}
