import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook, WebhookVerificationError } from '../../sdk';
import { generateWebhookSecret, signatureHeader } from '../../server/events/signing';

const secret = generateWebhookSecret();
const now = new Date('2026-12-02T01:00:00.000Z');
const seconds = Math.floor(now.getTime() / 1000);
const body = JSON.stringify({
  id: 'evt_1',
  type: 'key.revoked',
  timestamp: now.toISOString(),
  workspaceId: 'ws_default',
  data: {
    key: {
      id: 'key_1',
      kind: 'api',
      name: 'crm — sync ✓',
      start: 'kw_live_AbCd',
      environment: 'live',
      scopes: [],
      status: 'revoked',
    },
    actor: { rootKeyId: 'rk_1', requestId: 'req_1' },
    previousStatus: 'active',
    graceUntil: null,
  },
});

/** Headers exactly as the reference implementation signs them. */
function signed(payload: string, signingSecret = secret, at = now) {
  return {
    'webhook-id': 'evt_1',
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(signingSecret).sign('evt_1', at, payload),
  };
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  throw new Error('expected a refusal');
}

describe('verifyWebhook', () => {
  it('accepts what standardwebhooks signs, and returns the typed event', () => {
    const event = verifyWebhook(body, signed(body), secret, { now });
    expect(event.type).toBe('key.revoked');
    if (event.type === 'key.revoked') expect(event.data.previousStatus).toBe('active');
    expect(verifyWebhook(Buffer.from(body), signed(body), secret, { now }).id).toBe('evt_1');
  });

  it('accepts what the keyward dispatcher signs, with any of several signatures, and fetch Headers', () => {
    const old = generateWebhookSecret();
    const headers = new Headers({
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(seconds),
      'webhook-signature': signatureHeader([secret, old], 'evt_1', seconds, body),
    });
    expect(verifyWebhook(body, headers, secret, { now }).id).toBe('evt_1');
    expect(verifyWebhook(body, headers, old, { now }).id).toBe('evt_1');
  });

  it('rejects a tampered body, a wrong secret and a tampered id', () => {
    expect(refusal(() => verifyWebhook(body.replace('revoked', 'resumed'), signed(body), secret, { now }))).toBe(
      'KW_WEBHOOK_BAD_SIGNATURE',
    );
    expect(refusal(() => verifyWebhook(body, signed(body), generateWebhookSecret(), { now }))).toBe(
      'KW_WEBHOOK_BAD_SIGNATURE',
    );
    expect(refusal(() => verifyWebhook(body, { ...signed(body), 'webhook-id': 'evt_2' }, secret, { now }))).toBe(
      'KW_WEBHOOK_BAD_SIGNATURE',
    );
    const raw = `whsec_${randomBytes(32).toString('base64')}`;
    expect(refusal(() => verifyWebhook(body, { ...signed(body), 'webhook-signature': 'v2,abc' }, raw, { now }))).toBe(
      'KW_WEBHOOK_BAD_SIGNATURE',
    );
  });

  it('rejects stale and future timestamps, within a tolerance', () => {
    const sixMinutes = 6 * 60 * 1000;
    const stale = new Date(now.getTime() - sixMinutes);
    expect(refusal(() => verifyWebhook(body, signed(body, secret, stale), secret, { now }))).toBe('KW_WEBHOOK_STALE');
    const ahead = new Date(now.getTime() + sixMinutes);
    expect(refusal(() => verifyWebhook(body, signed(body, secret, ahead), secret, { now }))).toBe('KW_WEBHOOK_FUTURE');
    expect(verifyWebhook(body, signed(body, secret, stale), secret, { now, toleranceSeconds: 600 }).id).toBe('evt_1');
    const four = new Date(now.getTime() - 4 * 60 * 1000);
    expect(verifyWebhook(body, signed(body, secret, four), secret, { now }).id).toBe('evt_1');
  });

  it('rejects missing headers and a malformed timestamp, never echoing the secret', () => {
    const { 'webhook-signature': _, ...unsigned } = signed(body);
    expect(refusal(() => verifyWebhook(body, unsigned, secret, { now }))).toBe('KW_WEBHOOK_MISSING_HEADER');
    expect(refusal(() => verifyWebhook(body, { ...signed(body), 'webhook-timestamp': '1e9' }, secret, { now }))).toBe(
      'KW_WEBHOOK_BAD_TIMESTAMP',
    );
    try {
      verifyWebhook(body, signed(body), generateWebhookSecret(), { now });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(secret.slice(6));
    }
  });
});
