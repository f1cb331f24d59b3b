import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type GithubPublicKeys, GithubPublicKeysSchema } from '../../schema';

/** Where GitHub's secret-scanning public keys come from, in the order config.ts prefers them. */
export type GithubKeySource =
  | { kind: 'inline'; document: GithubPublicKeys }
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string; token: string | undefined };

/** The answer for one key identifier. */
export type GithubKeyLookup =
  | { found: KeyObject }
  | { unknown: true }
  /** No keys could be loaded at all: the alert cannot be checked, so it is refused with a 503. */
  | { unavailable: string };

/** The longest a keys document may be, in bytes; GitHub's is about 1 KB. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
const FETCH_TIMEOUT_MS = 5_000;

/**
 * GitHub's secret-scanning public keys, by key identifier, loaded lazily and cached. The URL or
 * file is read again when the cache is older than `ttlMs`, and when an alert names an identifier
 * not in the cache (GitHub rotated its key); reads are at most one per `refetchMs`, so alerts
 * with made-up identifiers cannot make keyward hammer GitHub. When a read fails, the keys already
 * loaded keep serving.
 */
export class GithubKeyring {
  readonly #source: GithubKeySource;
  readonly #ttlMs: number;
  readonly #refetchMs: number;
  readonly #clock: () => number;
  readonly #onError: (error: unknown) => void;
  #keys: Map<string, KeyObject> | null = null;
  #loadedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #lastError = 'not loaded yet';
  #etag: string | null = null;
  #loading: Promise<void> | null = null;

  constructor(options: {
    source: GithubKeySource;
    ttlMs: number;
    refetchMs: number;
    clock: () => number;
    onError: (error: unknown) => void;
  }) {
    this.#source = options.source;
    this.#ttlMs = options.ttlMs;
    this.#refetchMs = options.refetchMs;
    this.#clock = options.clock;
    this.#onError = options.onError;
    if (options.source.kind === 'inline') {
      try {
        this.#keys = keysOf(options.source.document);
      } catch (error) {
        throw new Error(`KEYWARD_GITHUB_SCANNING_KEYS: ${(error as Error).message}`);
      }
      this.#loadedAt = Number.POSITIVE_INFINITY;
    }
  }

  /** The public key an alert names, loading or reloading the keys when the cache says to. */
  async lookup(identifier: string): Promise<GithubKeyLookup> {
    const now = this.#clock();
    const expired = this.#keys === null || now - this.#loadedAt >= this.#ttlMs;
    const missing = !this.#keys?.has(identifier);
    if ((expired || missing) && this.#source.kind !== 'inline' && now - this.#attemptedAt >= this.#refetchMs) {
      this.#loading ??= this.#load(now).finally(() => {
        this.#loading = null;
      });
      await this.#loading;
    } else if (this.#loading) {
      await this.#loading;
    }
    if (this.#keys === null) return { unavailable: this.#lastError };
    const key = this.#keys.get(identifier);
    return key ? { found: key } : { unknown: true };
  }

  async #load(now: number): Promise<void> {
    this.#attemptedAt = now;
    try {
      const document = this.#source.kind === 'file' ? await this.#readFile(this.#source.path) : await this.#fetch();
      if (document) this.#keys = keysOf(document);
      this.#loadedAt = now;
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error);
      this.#onError(error);
    }
  }

  async #readFile(path: string): Promise<GithubPublicKeys> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`reading GitHub's secret-scanning keys from ${path} failed: ${(error as Error).message}`);
    }
    return parseDocument(text, path);
  }

  /** The document at the URL, or null when it has not changed since the last read (304). */
  async #fetch(): Promise<GithubPublicKeys | null> {
    if (this.#source.kind !== 'url') return null;
    const { url, token } = this.#source;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'keyward' };
    if (token) headers.authorization = `Bearer ${token}`;
    // A conditional request: an unchanged document costs GitHub (and its rate limit) almost nothing.
    if (this.#etag && this.#keys) headers['if-none-match'] = this.#etag;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (error) {
      const reason = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new Error(`fetching GitHub's secret-scanning keys from ${url} failed: ${reason}`);
    }
    if (response.status === 304 && this.#keys) return null;
    const text = await response.text();
    if (!response.ok) throw new Error(`fetching GitHub's secret-scanning keys from ${url} answered ${response.status}`);
    const document = parseDocument(text, url);
    this.#etag = response.headers.get('etag');
    return document;
  }
}

function parseDocument(text: string, where: string): GithubPublicKeys {
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) throw new Error(`the keys document at ${where} is too large`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the keys document at ${where} is not JSON`);
  }
  const parsed = GithubPublicKeysSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `the keys document at ${where} is not GitHub's shape (${issue?.path.join('.') || '(root)'}: ${issue?.message})`,
    );
  }
  return parsed.data;
}

/** The usable keys of a document: ECDSA P-256 public keys only; anything else could not have signed an alert. */
function keysOf(document: GithubPublicKeys): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const entry of document.public_keys) {
    try {
      const key = createPublicKey(entry.key);
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
        keys.set(entry.key_identifier, key);
    } catch {
      // Not a PEM public key: skipped, as a key that cannot verify anything.
    }
  }
  if (keys.size === 0) throw new Error('the keys document holds no ECDSA P-256 public key');
  return keys;
}

/** A signature header as GitHub sends it: base64 of a DER ECDSA signature (at most 72 bytes). */
const SIGNATURE = /^[A-Za-z0-9+/]{8,200}={0,2}$/;
/** A key identifier as GitHub sends it: hex today; any short token of safe characters. */
const IDENTIFIER = /^[A-Za-z0-9._-]{1,256}$/;

/** Whether the headers are shaped as GitHub sends them; anything else is refused before any key lookup. */
export function wellFormedSignatureHeaders(identifier: string, signature: string): boolean {
  return IDENTIFIER.test(identifier) && SIGNATURE.test(signature);
}

/** Checks an ECDSA P-256 / SHA-256 signature (base64 DER) over the raw body bytes. */
export function verifyGithubSignature(key: KeyObject, body: Buffer, signature: string): boolean {
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The keys source the configuration names: the inline JSON, else the file, else the URL. */
export function githubKeySource(config: {
  githubScanningKeys?: GithubPublicKeys | undefined;
  githubScanningKeysFile?: string | undefined;
  githubScanningKeysUrl: string;
  githubScanningToken?: string | undefined;
}): GithubKeySource {
  if (config.githubScanningKeys) return { kind: 'inline', document: config.githubScanningKeys };
  if (config.githubScanningKeysFile) return { kind: 'file', path: config.githubScanningKeysFile };
  return { kind: 'url', url: config.githubScanningKeysUrl, token: config.githubScanningToken };
}
