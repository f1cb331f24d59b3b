import { KEY_STATUSES, type KeyStatus, VERIFY_CODES, type VerifyCode } from '../../../schema';
import { effectiveStatus, type KeyRecord } from '../../keys/record';
import { type Verdict, verifyResponse } from '../service';

/*
 * The JSON text of verify answers, made once. An answer without a rate limit depends only on the
 * key record, the code and the key's status at that moment, so its text is kept per record, code
 * and status: the lane then shapes no object and calls no JSON.stringify per request. A changed
 * key is a new record (the verifier reloads it), so a text never outlives what it was made from.
 * A record's texts sit in one small object, not in Maps: every cached key holds one, and a Map
 * weighs several times as much (bench/cache-memory).
 */

/** The name of each code and status's text: made here once, so finding one builds no string. */
const SLOTS = Object.fromEntries(
  VERIFY_CODES.map((code) => [code, Object.fromEntries(KEY_STATUSES.map((status) => [status, `${code} ${status}`]))]),
) as Record<VerifyCode, Record<KeyStatus, string>>;

/** Per record, its answer texts by slot. One small object per record, as most keys only ever get one answer. */
const texts = new WeakMap<KeyRecord, Record<string, string>>();

/** The JSON text of a verdict's answer: always JSON.stringify(verifyResponse(verdict, now)), made once when it can be shared. */
export function answerJson(verdict: Verdict, now: number): string {
  const key = verdict.key;
  if (!key || verdict.rateLimit) return JSON.stringify(verifyResponse(verdict, now));
  let bySlot = texts.get(key);
  if (bySlot === undefined) {
    bySlot = {};
    texts.set(key, bySlot);
  }
  const slot = SLOTS[verdict.code][effectiveStatus(key, now)];
  let text = bySlot[slot];
  if (text === undefined) {
    text = JSON.stringify(verifyResponse(verdict, now));
    bySlot[slot] = text;
  }
  return text;
}
