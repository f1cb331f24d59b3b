import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
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
  return new Pepper(secretMaterial(fromEnv, dataDir, 'pepper'));
}

/** A server secret from its environment variable, else from its file in the data dir, made (48 random bytes, mode 0600) on first start. */
function secretMaterial(fromEnv: string | undefined, dataDir: string, fileName: string): Buffer {
  if (fromEnv) return Buffer.from(fromEnv, 'utf8');
  const file = join(dataDir, fileName);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(48).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
}

/** Encrypts a secret with AES-256-GCM under `key`, bound to `context` (e.g. the key id); the output is iv.tag.ciphertext in base64url. */
export function seal(plaintext: string, key: Buffer, context = ''): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (context) cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

/** Reverses seal; null when the key is wrong or the data was altered. */
export function unseal(sealed: string, key: Buffer, context = ''): string | null {
  const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !body) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    if (context) decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/**
 * The key that encrypts signing secrets at rest (AES-256-GCM). Unlike key hashes, signing secrets
 * must be recovered to check an HMAC, so they are encrypted, each bound to its key id.
 */
export class MasterKey {
  readonly #key: Buffer;

  constructor(material: Buffer) {
    if (material.length < 32) throw new Error('KEYWARD_MASTER_KEY must carry at least 32 bytes');
    this.#key = createHmac('sha256', material).update('keyward master key').digest();
  }

  /** Encrypts a signing secret for the key `keyId`. */
  seal(secret: string, keyId: string): string {
    return seal(secret, this.#key, keyId);
  }

  /** Decrypts what seal() made for the same key id; null when it was altered or sealed for another key. */
  unseal(sealed: string, keyId: string): string | null {
    return unseal(sealed, this.#key, keyId);
  }

  toJSON(): string {
    return '[master key]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[master key]';
  }
}

/** Reads KEYWARD_MASTER_KEY, or the master-key file in the data dir, generating it (mode 0600) on first start. */
export function loadMasterKey(fromEnv: string | undefined, dataDir: string): MasterKey {
  return new MasterKey(secretMaterial(fromEnv, dataDir, 'master-key'));
}

/** A fresh signing secret: 256 random bits, `kw_sig_` + base64url. Its UTF-8 bytes are the HMAC key. */
export function generateSigningSecret(): string {
  return `kw_sig_${randomBytes(32).toString('base64url')}`;
}
