import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from '../schema';

/** Why a delivery was refused; each is a `code` of WebhookVerificationError. */
export const WEBHOOK_VERIFICATION_CODES = [
  'KW_WEBHOOK_MISSING_HEADER',
  'KW_WEBHOOK_BAD_SECRET',
  'KW_WEBHOOK_BAD_TIMESTAMP',
  'KW_WEBHOOK_STALE',
  'KW_WEBHOOK_FUTURE',
  'KW_WEBHOOK_BAD_SIGNATURE',
  'KW_WEBHOOK_BAD_BODY',
] as const;
export type WebhookVerificationCode = (typeof WEBHOOK_VERIFICATION_CODES)[number];

/** A delivery that must not be trusted; the message never repeats the secret or a signature. */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationCode;
  constructor(code: WebhookVerificationCode, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

/** Headers as Node (`IncomingMessage.headers`), fetch (`Headers`) or a plain object carry them. */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Record<string, string | readonly string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How old (or how far ahead) `webhook-timestamp` may be; default 300 s, against replays. */
  toleranceSeconds?: number;
  /** The current time; defaults to the clock. */
  now?: Date;
}

const SECRET_PREFIX = 'whsec_';

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers.get === 'function')
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return typeof value === 'string' ? value : value?.[0];
}

function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('KW_WEBHOOK_BAD_SECRET', 'the secret is not whsec_<base64>');
  return key;
}

/**
 * Checks a delivery's Standard Webhooks signature and age, and returns its parsed event; throws a
 * WebhookVerificationError otherwise. Pass the body exactly as received, before any JSON parsing.
 * @example
 * const event = verifyWebhook(req.rawBody, req.headers, process.env.KEYWARD_WEBHOOK_SECRET!);
 * if (event.type === 'key.rotated') await reloadKey(event.data.successor.id);
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): WebhookEvent {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError(
      'KW_WEBHOOK_MISSING_HEADER',
      'webhook-id, webhook-timestamp and webhook-signature are all required',
    );
  if (!/^\d{1,15}$/.test(timestamp))
    throw new WebhookVerificationError('KW_WEBHOOK_BAD_TIMESTAMP', 'webhook-timestamp is not whole seconds');

  // The age check comes first so a replayed old delivery is refused even with a valid signature.
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const sentSeconds = Number(timestamp);
  if (sentSeconds < nowSeconds - tolerance)
    throw new WebhookVerificationError('KW_WEBHOOK_STALE', `the delivery is older than ${tolerance} s`);
  if (sentSeconds > nowSeconds + tolerance)
    throw new WebhookVerificationError('KW_WEBHOOK_FUTURE', `the delivery is more than ${tolerance} s in the future`);

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
  const expected = (typeof secret === 'string' ? [secret] : secret).map((one) =>
    createHmac('sha256', keyOf(one)).update(signed).digest(),
  );
  // Several signatures are sent while a rotated secret is in its grace period: any one may match.
  const presented = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  const matches = presented.some((candidate) =>
    expected.some((mac) => candidate.length === mac.length && timingSafeEqual(candidate, mac)),
  );
  if (!matches) throw new WebhookVerificationError('KW_WEBHOOK_BAD_SIGNATURE', 'no v1 signature matches the secret');

  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('KW_WEBHOOK_BAD_BODY', 'the body is not JSON');
  }
  if (typeof event !== 'object' || event === null || typeof (event as { type?: unknown }).type !== 'string')
    throw new WebhookVerificationError('KW_WEBHOOK_BAD_BODY', 'the body is not a keyward event');
  return event as WebhookEvent;
}
