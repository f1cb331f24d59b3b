import { performance } from 'node:perf_hooks';
import type { KeyStatus, VerifyCode, VerifyRequest, VerifyResponse } from '../../schema';
import type { Actor } from '../audit/log';
import { callLogPath } from '../calls/path';
import type { CallRecorder } from '../calls/recorder';
import { presentedStart } from '../keys/format';
import { effectiveStatus, type KeyRecord } from '../keys/record';
import type { BruteForceGuard } from './brute-force';
import type { Verifier, VerifyOutcome } from './pipeline';

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

/**
 * Answers without a rate limit depend only on the key record, the code and the key's status at
 * that moment, so each is shaped and serialized once per cached record: the hot path then builds
 * no object and calls no JSON.stringify. A changed key is a new record (the verifier reloads it),
 * so an entry can never outlive what it was made from.
 */
const answersByRecord = new WeakMap<KeyRecord, Map<VerifyCode, Map<KeyStatus | null, VerifyResponse>>>();
/** The JSON text of each shared answer; verifyResponseJson() reads it. */
const answerTexts = new WeakMap<VerifyResponse, string>();

function shape(
  outcome: VerifyOutcome | typeof BLOCKED,
  key: KeyRecord | null,
  status: KeyStatus | null,
): VerifyResponse {
  return {
    valid: outcome.valid,
    code: outcome.code,
    keyId: key?.id ?? null,
    scopes: outcome.valid ? key!.scopes : [],
    metadata: outcome.valid ? (key!.metadata as VerifyResponse['metadata']) : null,
    expiresAt: key?.expiresAt?.toISOString() ?? null,
    status,
    deprecated: status === 'retiring',
    graceUntil: key?.graceUntil?.toISOString() ?? null,
    successorId: key?.successorId ?? null,
    rateLimit: outcome.rateLimit
      ? {
          limit: outcome.rateLimit.limit,
          remaining: outcome.rateLimit.remaining,
          resetAt: outcome.rateLimit.resetAt.toISOString(),
        }
      : null,
  };
}

/** Shapes a pipeline outcome as the API answers it; the answer may be shared, and is frozen. */
export function verifyResponse(outcome: VerifyOutcome | typeof BLOCKED, now: number): VerifyResponse {
  const key = outcome.key;
  const status = key ? effectiveStatus(key, now) : null;
  if (!key || outcome.rateLimit) return shape(outcome, key, status);
  let byCode = answersByRecord.get(key);
  if (!byCode) {
    byCode = new Map();
    answersByRecord.set(key, byCode);
  }
  // Looked up by the code, then the status: both are constant strings, so nothing is built per call.
  let byStatus = byCode.get(outcome.code);
  if (!byStatus) {
    byStatus = new Map();
    byCode.set(outcome.code, byStatus);
  }
  let answer = byStatus.get(status);
  if (!answer) {
    answer = Object.freeze(shape(outcome, key, status));
    byStatus.set(status, answer);
    answerTexts.set(answer, JSON.stringify(answer));
  }
  return answer;
}

/** The JSON text of a verify answer, serialized once for answers that are shared. */
export function verifyResponseJson(response: VerifyResponse): string {
  return answerTexts.get(response) ?? JSON.stringify(response);
}

/**
 * The verify service: brute-force throttling, the pipeline, the call log and the outcome metric
 * for one validated request from an authenticated caller. Synchronous for a cached key, so the hot
 * path allocates no promise; both the verify lane and the fastify route answer through it.
 */
export function verifyService({
  verifier,
  recorder,
  keepQueryInCallLog,
  bruteForce,
  onOutcome,
  onThrottled,
}: VerifyServiceOptions) {
  /** The key's display prefix, for throttling and for calls with no known key: computed only when needed. */
  const prefixOf = (key: string | undefined): string | null => (key === undefined ? null : presentedStart(key));

  const finish = (
    body: VerifyRequest,
    actor: Actor,
    source: string | null,
    started: number,
    now: number,
    outcome: VerifyOutcome | typeof BLOCKED,
  ): VerifyResponse => {
    const { key, ip, scopes, request: signed, path } = body;
    // The presented key's prefix when no key was found: it is throttled and logged in the key's place.
    const unknownPrefix = outcome.key === null ? prefixOf(key) : null;
    if (GUESSES.has(outcome.code)) {
      // Only an unknown key counts against its prefix: a real key's prefix is not being guessed.
      const throttled = bruteForce.failed(source, unknownPrefix, now);
      if (throttled) onThrottled(actor, throttled, { ip: source, prefix: unknownPrefix ?? prefixOf(key) });
    }
    onOutcome(outcome.code);
    recorder.record({
      workspaceId: actor.workspaceId,
      at: now,
      keyId: outcome.key?.id ?? null,
      keyStart: outcome.key ? outcome.key.start : unknownPrefix,
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
      code: outcome.code,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return verifyResponse(outcome, now);
  };

  /**
   * Verifies one request. `now` (epoch ms) and `started` (performance.now() when the request
   * arrived) come from a caller that has read the clock already, so a verification reads it
   * once more, for the latency the call log keeps: from the request's arrival, when known, to the verdict.
   */
  return (
    body: VerifyRequest,
    actor: Actor,
    now: number = Date.now(),
    started: number = performance.now(),
  ): VerifyResponse | Promise<VerifyResponse> => {
    // Brute force: the end client's address when the caller passes it, else the caller's own.
    const source = body.ip ?? actor.ip;
    const blocked = bruteForce.blocked(source, bruteForce.watchingPrefixes ? prefixOf(body.key) : null, now) !== null;
    const outcome = blocked
      ? BLOCKED
      : verifier.verify(
          {
            key: body.key,
            request: body.request,
            kind: 'api',
            workspaceId: actor.workspaceId,
            ip: body.ip,
            scopes: body.scopes,
          },
          now,
        );
    return outcome instanceof Promise
      ? outcome.then((settled) => finish(body, actor, source, started, now, settled))
      : finish(body, actor, source, started, now, outcome);
  };
}
export type VerifyService = ReturnType<typeof verifyService>;
