import { createCipheriv, createDecipheriv, createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The server-side secret that every key hash is keyed with. A leaked database alone cannot be
 * brute-forced offline without it.
 */
export class Pepper {
  readonly #secret: KeyObject;

  constructor(secret: Buffer) {
    if (secret.length < 32) throw new Error('KEYWARD_PEPPER must carry at least 32 bytes');
    this.#secret = createSecretKey(secret);
  }

  /** HMAC-SHA256(pepper, key) in hex: the only form in which a key is stored. */
  hashKey(key: string): string {
    return createHmac('sha256', this.#secret).update(key).digest('hex');
  }

  /** A derived 32-byte key for one purpose, so one secret never serves two uses directly. */
  derive(purpose: string, input: string): Buffer {
    return createHmac('sha256', this.#secret).update(`${purpose}\0${input}`).digest();
  }

  /** A non-secret fingerprint stored in the database, to catch a server started with the wrong pepper. */
  fingerprint(): string {
    return this.derive('fingerprint', 'keyward').toString('hex').slice(0, 16);
  }

  // Keeps the secret out of util.inspect, JSON and template strings.
  toJSON(): string {
    return '[pepper]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[pepper]';
  }
}

/** Reads KEYWARD_PEPPER, or the pepper file in the data dir, generating it (mode 0600) on first start. */
export function loadPepper(fromEnv: string | undefined, dataDir: string): Pepper {
  if (fromEnv) return new Pepper(Buffer.from(fromEnv, 'utf8'));
  const file = join(dataDir, 'pepper');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(48).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  return new Pepper(Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8'));
}

/** Encrypts a secret with AES-256-GCM under `key`; the output is iv.tag.ciphertext in base64url. */
export function seal(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

/** Reverses seal; null when the key is wrong or the data was altered. */
export function unseal(sealed: string, key: Buffer): string | null {
  const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !body) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
