import { createHash } from 'node:crypto';
import {
  GithubAlertSchema,
  type GithubFeedback,
  type GithubMatch,
  type LeakReport,
  type LeakSource,
  type ReportLeakBody,
} from '../../schema';
import type { Actor } from '../audit/log';
import { KeywardError } from '../errors';
import type { Origin } from '../http/auth';
import { parseKey } from '../keys/format';
import { missingGrants } from '../keys/grants';
import type { KeyRecord } from '../keys/record';
import { findKeyByHash } from '../keys/repository';
import type { Pepper } from '../keys/secrets';
import type { KeyService } from '../keys/service';
import type { Db } from '../store/database';
import { readJson } from '../verify/fast/body';
import { type GithubKeyring, verifyGithubSignature, wellFormedSignatureHeaders } from './github-keys';

/** The signature headers of a GitHub alert, as received (either may be missing). */
export interface GithubSignature {
  identifier: string | undefined;
  signature: string | undefined;
}

/** What one GitHub alert did, for the operator's log: counts only, never a token. */
export interface GithubAlertSummary {
  matches: number;
  truePositives: number;
  recorded: number;
}

/**
 * Leak response (docs/leaks.md): GitHub secret-scanning alerts, checked against GitHub's signing
 * keys, and a root key's own report. Every key found leaked goes through KeyService.leak, which
 * applies the workspace's leak policy in one transaction with its audit entry and event.
 */
export class LeakService {
  readonly #db: Db;
  readonly #pepper: Pepper;
  readonly #keys: KeyService;
  readonly #keyring: GithubKeyring;

  constructor(deps: { db: Db; pepper: Pepper; keys: KeyService; keyring: GithubKeyring }) {
    this.#db = deps.db;
    this.#pepper = deps.pepper;
    this.#keys = deps.keys;
    this.#keyring = deps.keyring;
  }

  /**
   * Answers a GitHub alert: the signature over the raw bytes is checked before anything is read,
   * then each match is labelled true_positive (a key keyward issued, acted on) or false_positive.
   */
  async github(
    body: Buffer,
    headers: GithubSignature,
    origin: Origin,
  ): Promise<{ feedback: GithubFeedback; summary: GithubAlertSummary }> {
    await this.#checkSignature(body, headers);
    const json = readJson(body.toString('utf8'));
    if (json instanceof KeywardError) throw json;
    const parsed = GithubAlertSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 20).map((issue) => ({
        path: ['body', ...issue.path].join('.'),
        message: issue.message,
      }));
      throw new KeywardError('KW_ERR_VALIDATION', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {
        issues,
      });
    }
    const summary: GithubAlertSummary = { matches: parsed.data.length, truePositives: 0, recorded: 0 };
    const feedback: GithubFeedback = [];
    // One match after another: a batch naming one key twice must see the first report committed.
    for (const match of parsed.data) {
      const recorded = await this.#githubMatch(match, origin);
      if (recorded !== null) summary.truePositives += 1;
      if (recorded) summary.recorded += 1;
      feedback.push({
        token_raw: match.token,
        token_type: match.type,
        label: recorded === null ? 'false_positive' : 'true_positive',
      });
    }
    return { feedback, summary };
  }

  /** A root key reports one of its workspace's keys exposed; the workspace's leak policy acts on it. */
  async report(actor: Actor, body: ReportLeakBody): Promise<LeakReport> {
    const target = body.key !== undefined ? await this.#byKey(actor, body.key) : this.#byId(actor, body.keyId ?? '');
    const leak: LeakSource = { reporter: 'report', url: body.url ?? null, source: null };
    const outcome = await this.#keys.leak(target.kind, actor, target.id, { leak, note: body.note ?? null });
    return { key: outcome.key, action: outcome.action, previousStatus: outcome.previousStatus, leak };
  }

  async #checkSignature(body: Buffer, headers: GithubSignature): Promise<void> {
    const { identifier, signature } = headers;
    if (!identifier || !signature) throw unsigned('send Github-Public-Key-Identifier and Github-Public-Key-Signature');
    if (!wellFormedSignatureHeaders(identifier, signature))
      throw unsigned('Github-Public-Key-Identifier or Github-Public-Key-Signature is malformed');
    const lookup = await this.#keyring.lookup(identifier);
    if ('unavailable' in lookup)
      throw new KeywardError(
        'KW_ERR_UNAVAILABLE',
        "GitHub's secret-scanning public keys could not be loaded, so the alert cannot be checked; the server log says why",
        { headers: { 'retry-after': '60' } },
      );
    if ('unknown' in lookup) throw unsigned('Github-Public-Key-Identifier names no GitHub secret-scanning key');
    if (!verifyGithubSignature(lookup.found, body, signature))
      throw unsigned('Github-Public-Key-Signature does not match the body');
  }

  /**
   * One match: null for a false positive (not a keyward key, a bad checksum, or no such key);
   * else whether this report was recorded (false when the same report was already handled).
   */
  async #githubMatch(match: GithubMatch, origin: Origin): Promise<boolean | null> {
    if (!parseKey(match.token)) return null;
    const record = await findKeyByHash(this.#db, this.#pepper.hashKey(match.token));
    if (!record) return null;
    const leak: LeakSource = { reporter: 'github', url: match.url || null, source: match.source || null };
    const actor: Actor = { workspaceId: record.workspaceId, rootKeyId: null, scopes: ['*'], ...origin };
    const outcome = await this.#keys.leak(record.kind, actor, record.id, { leak }, (trx, key, now) =>
      claimReport(trx, key, leak, now),
    );
    return outcome.recorded;
  }

  async #byKey(actor: Actor, key: string): Promise<Pick<KeyRecord, 'kind' | 'id'>> {
    if (!parseKey(key))
      throw KeywardError.invalidField('body.key', 'is not a keyward key: its prefix, length or checksum is wrong');
    const record = await findKeyByHash(this.#db, this.#pepper.hashKey(key));
    // Another workspace's key is answered exactly as a key that does not exist.
    if (!record || record.workspaceId !== actor.workspaceId)
      throw new KeywardError('KW_ERR_NOT_FOUND', 'no key of this workspace matches body.key');
    return record;
  }

  #byId(actor: Actor, id: string): Pick<KeyRecord, 'kind' | 'id'> {
    const kind = id.startsWith('rk_') ? 'root' : 'api';
    // By id, a root key is reported only by one that manages root keys; holding the secret itself
    // (body.key) is proof enough, as anyone holding it could already use it.
    if (kind === 'root' && missingGrants(actor.scopes, ['root-keys:manage']).length > 0)
      throw new KeywardError(
        'KW_ERR_FORBIDDEN',
        'reporting a root key by keyId needs root-keys:manage; send the exposed key itself instead',
      );
    return { kind, id };
  }
}

function unsigned(reason: string): KeywardError {
  return new KeywardError('KW_ERR_UNAUTHENTICATED', `not a signed GitHub secret-scanning alert: ${reason}`);
}

/**
 * Records a report as handled, inside the leak's transaction; false when the same report (same
 * key, reporter, URL and source) was handled before. GitHub signs no timestamp or nonce, so a
 * replayed alert verifies: this is what keeps it from acting and auditing twice.
 */
async function claimReport(trx: Db, key: KeyRecord, leak: LeakSource, now: Date): Promise<boolean> {
  const digest = createHash('sha256')
    .update(JSON.stringify([leak.reporter, leak.url, leak.source]))
    .digest('hex');
  const inserted = await trx
    .insertInto('leak_reports')
    .values({
      key_id: key.id,
      report_digest: digest,
      workspace_id: key.workspaceId,
      reporter: leak.reporter,
      reported_at: now,
    })
    .onConflict((conflict) => conflict.columns(['key_id', 'report_digest']).doNothing())
    .returning('key_id')
    .executeTakeFirst();
  return inserted !== undefined;
}
