import { performance } from 'node:perf_hooks';
import type { VerifyCode, VerifyRequest, VerifyResponse } from '../../schema';
import type { Actor } from '../audit/log';
import { callLogPath } from '../calls/path';
import type { CallRecorder } from '../calls/recorder';
import { presentedStart } from '../keys/format';
import { effectiveStatus } from '../keys/record';
import type { BruteForceGuard } from './brute-force';
import type { Verifier, VerifyInput, VerifyOutcome } from './pipeline';

/** Outcomes that count toward brute-force throttling: guessing keys, forging or replaying signatures. */
const GUESSES: ReadonlySet<VerifyCode> = new Set(['MALFORMED', 'NOT_FOUND', 'SIGNATURE_INVALID', 'REPLAYED']);

/** No scopes asked: shared, as the call log only reads it. */
const NO_SCOPES: readonly string[] = Object.freeze([]);

/** The answer when the source is throttled: the pipeline is not run at all. */
const BLOCKED = { valid: false, code: 'BLOCKED', key: null, rateLimit: null } as const;

/** Who is being throttled after repeated failures: the end client's address, or a key prefix. */
export interface ThrottledSource {
  ip: string | null;
  prefix: string | null;
}

export interface VerifyServiceOptions {
  verifier: Verifier;
  recorder: CallRecorder;
  /** Keep a path's query string in the call log (keys in it are cut to their prefix either way). */
  keepQueryInCallLog: boolean;
  bruteForce: BruteForceGuard;
  onOutcome: (code: VerifyCode) => void;
  /** A source or key prefix just crossed its failure limit. */
  onThrottled: (actor: Actor, reason: 'ip' | 'prefix', source: ThrottledSource) => void;
}

/** What the verify service answers: the pipeline's outcome, or BLOCKED when the source is throttled. */
export type Verdict = VerifyOutcome | typeof BLOCKED;

/** A verdict as the API answers it, with the key's status at `now`. */
export function verifyResponse(verdict: Verdict, now: number): VerifyResponse {
  const key = verdict.key;
  const status = key ? effectiveStatus(key, now) : null;
  return {
    valid: verdict.valid,
    code: verdict.code,
    keyId: key?.id ?? null,
    scopes: verdict.valid ? verdict.key.scopes : [],
    metadata: verdict.valid ? (verdict.key.metadata as VerifyResponse['metadata']) : null,
    expiresAt: key?.expiresAt?.toISOString() ?? null,
    status,
    deprecated: status === 'retiring',
    graceUntil: key?.graceUntil?.toISOString() ?? null,
    successorId: key?.successorId ?? null,
    rateLimit: verdict.rateLimit
      ? {
          limit: verdict.rateLimit.limit,
          remaining: verdict.rateLimit.remaining,
          resetAt: verdict.rateLimit.resetAt.toISOString(),
        }
      : null,
  };
}

/** The verify service: answer() for one request, and answerCached() for the same answer from memory alone. */
export interface VerifyService {
  /**
   * Answers from memory alone, exactly as answer() would: the verdict, or undefined when the store
   * must be asked (then call answer()). Nothing is counted or logged when it returns undefined.
   */
  answerCached(body: VerifyRequest, actor: Actor, now: number, started: number): Verdict | undefined;
  /**
   * Verifies one validated request from an authenticated caller. `now` (epoch ms) and `started`
   * (performance.now() when the request arrived) are the caller's clock readings; the call log
   * keeps the latency from the request's arrival, when known, to the verdict.
   */
  answer(body: VerifyRequest, actor: Actor, now?: number, started?: number): Promise<Verdict>;
}

/**
 * The verify service: brute-force throttling, the pipeline, the call log and the outcome metric
 * for one validated request from an authenticated caller.
 */
export function verifyService({
  verifier,
  recorder,
  keepQueryInCallLog,
  bruteForce,
  onOutcome,
  onThrottled,
}: VerifyServiceOptions): VerifyService {
  /** The key's display prefix, for throttling and for calls with no known key: computed only when needed. */
  const prefixOf = (key: string | undefined): string | null => (key === undefined ? null : presentedStart(key));

  /** Whether the source (the end client's address when the caller passes it, else the caller's own) or the key prefix is throttled. */
  const blocked = (body: VerifyRequest, source: string | null, now: number): boolean =>
    bruteForce.blocked(source, bruteForce.watchingPrefixes ? prefixOf(body.key) : null, now) !== null;

  /** The pipeline's input for a request: every field, in one order, so the pipeline sees one shape. */
  const input = (body: VerifyRequest, actor: Actor): VerifyInput => ({
    key: body.key,
    request: body.request,
    kind: 'api',
    workspaceId: actor.workspaceId,
    ip: body.ip,
    scopes: body.scopes,
  });

  /** Counts failures toward throttling, the outcome metric and the call-log row of a verdict. */
  const finish = (
    body: VerifyRequest,
    actor: Actor,
    source: string | null,
    started: number,
    now: number,
    verdict: Verdict,
  ): Verdict => {
    const { key, ip, scopes, request: signed, path } = body;
    // The presented key's prefix when no key was found: it is throttled and logged in the key's place.
    const unknownPrefix = verdict.key === null ? prefixOf(key) : null;
    if (GUESSES.has(verdict.code)) {
      // Only an unknown key counts against its prefix: a real key's prefix is not being guessed.
      const throttled = bruteForce.failed(source, unknownPrefix, now);
      if (throttled) onThrottled(actor, throttled, { ip: source, prefix: unknownPrefix ?? prefixOf(key) });
    }
    onOutcome(verdict.code);
    recorder.record({
      workspaceId: actor.workspaceId,
      at: now,
      keyId: verdict.key?.id ?? null,
      keyStart: verdict.key ? verdict.key.start : unknownPrefix,
      ip: ip ?? null,
      scopes: scopes ?? NO_SCOPES,
      // The signed request, when given, says what the call was; method and path default to it.
      method: body.method ?? signed?.method ?? null,
      path:
        path !== undefined
          ? callLogPath(path, keepQueryInCallLog)
          : signed
            ? callLogPath(new URL(signed.url).pathname, false)
            : null,
      code: verdict.code,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return verdict;
  };

  return {
    answerCached(body, actor, now, started) {
      const source = body.ip ?? actor.ip;
      if (blocked(body, source, now)) return finish(body, actor, source, started, now, BLOCKED);
      const outcome = verifier.verifyCached(input(body, actor), now);
      return outcome === undefined ? undefined : finish(body, actor, source, started, now, outcome);
    },
    async answer(body, actor, now = Date.now(), started = performance.now()) {
      const source = body.ip ?? actor.ip;
      if (blocked(body, source, now)) return finish(body, actor, source, started, now, BLOCKED);
      const outcome = await verifier.verify(input(body, actor), now);
      return finish(body, actor, source, started, now, outcome);
    },
  };
}
