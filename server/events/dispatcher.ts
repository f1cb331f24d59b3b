import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { DeliveryAttempt } from '../../schema';
import { maskSecrets } from '../keys/format';
import type { Db } from '../store/database';
import { type AddressPolicy, blockedLiteralReason, guardedLookup } from './address-guard';
import * as repository from './repository';
import type { WebhookService } from './service';
import { signatureHeader } from './signing';

/**
 * Seconds to wait after the 1st, 2nd, … failed attempt; after the last, the delivery fails. Each is
 * stretched by ±10% jitter so receivers that failed together are not retried together. The waits
 * add up to ~37.6 h (at least ~33.8 h with jitter): a receiver may be down for a day and miss nothing.
 */
export const RETRY_SCHEDULE_SECONDS = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 36_000] as const;

/** How many attempts a delivery gets on its own: the first and one per wait above. */
export const SCHEDULED_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length + 1;

/** What one attempt came to, as the delivery metric counts it. */
export type AttemptResult = 'succeeded' | 'retried' | 'failed';

/** How much of a receiver's answer is kept with an attempt. */
const RESPONSE_KEPT_BYTES = 1024;
/** How many deliveries one round claims. */
const BATCH = 20;

/** Anything shaped like a webhook secret, should a receiver echo one back. */
const WEBHOOK_SECRET_SHAPED = /whsec_[A-Za-z0-9+/=]+/g;

/** When the delivery that just failed its `attempts`-th attempt is tried next, or null when it has had its last. */
export function nextAttemptAt(attempts: number, now: number, random: () => number = Math.random): Date | null {
  const wait = RETRY_SCHEDULE_SECONDS[attempts - 1];
  if (wait === undefined) return null;
  return new Date(now + wait * 1000 * (0.9 + 0.2 * random()));
}

/** What one POST came to. */
interface PostOutcome {
  statusCode: number | null;
  error: string | null;
  response: string | null;
}

/**
 * Sends due webhook deliveries. Every replica runs one: claims take `FOR UPDATE SKIP LOCKED` and a
 * lease, so no two replicas send one delivery at once. The clock and the interval are injected, so
 * tests move time forward instead of sleeping through retries.
 */
export class Dispatcher {
  readonly #db: Db;
  readonly #webhooks: WebhookService;
  readonly #policy: AddressPolicy;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #onAttempt: (result: AttemptResult) => void;
  /** Attempts finished while the previous write was under way, written together next. */
  #unwritten: { record: repository.AttemptRecord; done: (error?: unknown) => void }[] = [];
  #writing = false;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;

  constructor(deps: {
    db: Db;
    webhooks: WebhookService;
    policy: AddressPolicy;
    clock?: () => number;
    intervalMs: number;
    timeoutMs: number;
    onError: (error: unknown) => void;
    /** Told the result of every attempt (for the delivery metric). */
    onAttempt?: (result: AttemptResult) => void;
  }) {
    this.#db = deps.db;
    this.#webhooks = deps.webhooks;
    this.#policy = deps.policy;
    this.#clock = deps.clock ?? Date.now;
    this.#timeoutMs = deps.timeoutMs;
    this.#onError = deps.onError;
    this.#onAttempt = deps.onAttempt ?? (() => undefined);
    this.#timer = setInterval(() => void this.#tick(), deps.intervalMs);
    this.#timer.unref();
  }

  /** Runs one round now (after any round under way); resolves with how many attempts it made. */
  async run(): Promise<number> {
    await this.#running;
    return this.#tick();
  }

  /** Stops the loop, waiting out a round under way so the store is never closed beneath it. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #tick(): Promise<number> {
    this.#running ??= this.#round()
      .catch((error: unknown) => {
        this.#onError(error);
        return 0;
      })
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }

  async #round(): Promise<number> {
    let total = 0;
    // A backlog is drained round after round within this tick, a batch at a time.
    for (;;) {
      const now = this.#clock();
      const lease = new Date(now + this.#timeoutMs + 60_000);
      const claimed = await repository.claimDue(this.#db, new Date(now), lease, BATCH);
      const endpointIds = [...new Set(claimed.map((delivery) => delivery.endpointId))];
      const endpoints = new Map(
        (await repository.findEndpointsByIds(this.#db, endpointIds)).map((endpoint) => [endpoint.id, endpoint]),
      );
      await Promise.all(claimed.map((delivery) => this.#deliver(delivery, endpoints.get(delivery.endpointId))));
      total += claimed.length;
      if (claimed.length < BATCH || this.#timer === null) return total;
    }
  }

  async #deliver(delivery: repository.ClaimedDelivery, endpoint: repository.EndpointRecord | undefined): Promise<void> {
    if (!endpoint?.enabled) return;
    const started = this.#clock();
    const timestamp = Math.floor(started / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'keyward-webhooks/1',
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(
        this.#webhooks.signingSecrets(endpoint, started),
        delivery.eventId,
        timestamp,
        delivery.payload,
      ),
    };
    const wallStart = performance.now();
    const outcome = await this.#post(endpoint.url, headers, delivery.payload);
    const attempt: DeliveryAttempt = {
      at: new Date(started).toISOString(),
      statusCode: outcome.statusCode,
      latencyMs: Math.round((performance.now() - wallStart) * 10) / 10,
      error: outcome.error,
      response: outcome.response,
    };
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const gone = outcome.statusCode === 410;
    const now = this.#clock();
    const retryAt = ok || gone ? null : nextAttemptAt(delivery.attemptCount + 1, now);
    if (ok || retryAt) {
      await this.#record({ id: delivery.id, status: ok ? 'succeeded' : 'pending', nextAttemptAt: retryAt, attempt });
      this.#onAttempt(ok ? 'succeeded' : 'retried');
      return;
    }
    // The last attempt: 410, or the schedule used up (a hand-made redelivery past it disables nothing).
    const exhausted = delivery.attemptCount + 1 === SCHEDULED_ATTEMPTS;
    await this.#webhooks.recordFinalFailure(
      endpoint,
      delivery,
      attempt,
      gone ? 'gone' : exhausted ? 'exhausted' : null,
      new Date(now),
    );
    this.#onAttempt('failed');
  }

  /**
   * Records an attempt that leaves its endpoint as it was (a success, or a failure to retry).
   * Attempts that finish while a write is under way wait and go in the next one, so a batch of
   * deliveries costs a few statements, not one each. Resolves once the attempt is stored.
   */
  #record(record: repository.AttemptRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#unwritten.push({ record, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.#writing) void this.#writeUnwritten();
    });
  }

  async #writeUnwritten(): Promise<void> {
    this.#writing = true;
    while (this.#unwritten.length > 0) {
      const batch = this.#unwritten.splice(0);
      try {
        await repository.recordAttempts(
          this.#db,
          batch.map((entry) => entry.record),
        );
        for (const entry of batch) entry.done();
      } catch (error) {
        for (const entry of batch) entry.done(error ?? new Error('recording attempts failed'));
      }
    }
    this.#writing = false;
  }

  /** How long (seconds, on the dispatcher's clock) the oldest delivery for an enabled endpoint has waited; 0 when none waits. */
  async oldestPendingSeconds(): Promise<number> {
    const oldest = await repository.oldestPendingAt(this.#db);
    return oldest ? Math.max(0, (this.#clock() - oldest.getTime()) / 1000) : 0;
  }

  /** One POST: no redirect followed, the address checked at connect time, at most `timeoutMs`. */
  #post(url: string, headers: Record<string, string>, body: string): Promise<PostOutcome> {
    const blocked = blockedLiteralReason(url, this.#policy);
    if (blocked) return Promise.resolve({ statusCode: null, error: `refused: the host ${blocked}`, response: null });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: PostOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const send = url.startsWith('https:') ? httpsRequest : httpRequest;
      const request = send(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: guardedLookup(this.#policy),
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          response.on('data', (chunk: Buffer) => {
            if (kept < RESPONSE_KEPT_BYTES) {
              chunks.push(chunk);
              kept += chunk.length;
            }
          });
          const done = () =>
            finish({
              statusCode: response.statusCode ?? null,
              error: null,
              response: keepResponse(Buffer.concat(chunks).subarray(0, RESPONSE_KEPT_BYTES).toString('utf8')),
            });
          response.on('end', done);
          response.on('error', done);
        },
      );
      // The whole exchange, not each socket event, is bounded.
      const timer = setTimeout(() => {
        finish({ statusCode: null, error: `timed out after ${this.#timeoutMs} ms`, response: null });
        request.destroy();
      }, this.#timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        const reason = error.code === 'EBLOCKED' ? `refused: ${error.message}` : (error.code ?? 'request failed');
        finish({ statusCode: null, error: reason, response: null });
      });
      request.end(body);
    });
  }
}

/** A receiver's answer as it is stored: secrets masked, empty as null. */
function keepResponse(text: string): string | null {
  if (text.length === 0) return null;
  return maskSecrets(text).replace(WEBHOOK_SECRET_SHAPED, 'whsec_…[redacted]');
}
