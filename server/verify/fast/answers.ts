import type { KeyStatus, VerifyCode } from '../../../schema';
import { effectiveStatus, type KeyRecord } from '../../keys/record';
import { type Verdict, verifyResponse } from '../service';

/*
 * The JSON text of verify answers, made once. An answer without a rate limit depends only on the
 * key record, the code and the key's status at that moment, so its text is kept per record, code
 * and status: the lane then shapes no object and calls no JSON.stringify per request. A changed
 * key is a new record (the verifier reloads it), so a text never outlives what it was made from.
 */

const texts = new WeakMap<KeyRecord, Map<VerifyCode, Map<KeyStatus, string>>>();

/** The JSON text of a verdict's answer: always JSON.stringify(verifyResponse(verdict, now)), made once when it can be shared. */
export function answerJson(verdict: Verdict, now: number): string {
  const key = verdict.key;
  if (!key || verdict.rateLimit) return JSON.stringify(verifyResponse(verdict, now));
  let byCode = texts.get(key);
  if (!byCode) {
    byCode = new Map();
    texts.set(key, byCode);
  }
  // Found by the code, then the status: both are constant strings, so nothing is built per call.
  let byStatus = byCode.get(verdict.code);
  if (!byStatus) {
    byStatus = new Map();
    byCode.set(verdict.code, byStatus);
  }
  const status = effectiveStatus(key, now);
  let text = byStatus.get(status);
  if (text === undefined) {
    text = JSON.stringify(verifyResponse(verdict, now));
    byStatus.set(status, text);
  }
  return text;
}
