/**
 * Group commit: requests that arrive while a write is committing wait, and the next write takes
 * them all at once, as one transaction that `run` makes. Under load one commit (and one lock on an
 * audit chain head) serves many requests; alone, a request is written at once, as before. Each
 * request is answered only after the transaction that holds it has committed.
 *
 * `run` receives the items and returns one outcome per item, in order. When it throws, the batch
 * rolled back whole, so each item is run again alone: one bad item then fails by itself, and the
 * others are written.
 */
export class GroupCommit<Item, Outcome> {
  readonly #run: (items: Item[]) => Promise<Outcome[]>;
  readonly #maxBatch: number;
  #queue: { item: Item; resolve(outcome: Outcome): void; reject(error: unknown): void }[] = [];
  #writing = false;

  constructor(run: (items: Item[]) => Promise<Outcome[]>, options: { maxBatch: number }) {
    this.#run = run;
    this.#maxBatch = options.maxBatch;
  }

  /** Queues one item; resolves with its outcome once its transaction has committed. */
  submit(item: Item): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const outcomes = await this.#run(batch.map((waiting) => waiting.item));
          for (const [index, waiting] of batch.entries()) waiting.resolve(outcomes[index]!);
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error);
            continue;
          }
          for (const waiting of batch) {
            try {
              const [outcome] = await this.#run([waiting.item]);
              waiting.resolve(outcome!);
            } catch (alone) {
              waiting.reject(alone);
            }
          }
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}
