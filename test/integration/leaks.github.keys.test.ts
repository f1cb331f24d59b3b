import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config';
import { githubSigner, type KeysServer, keysDocument, match, sendAlert, startKeysServer } from '../support/github';
import { startTestServer, type TestServer } from '../support/harness';

/*
 * Where keyward gets the public keys GitHub signs alerts with: GitHub's URL (here a local
 * stand-in), fetched on first use and cached, read again when an alert names a key it does not
 * know (GitHub rotated) at most once a minute, and after an hour; or a file, or inline JSON, for
 * machines that cannot reach GitHub. Time is the server's injected clock, moved by the test.
 */
const MINUTE = 60_000;

describe("GitHub's signing keys from a URL: fetched lazily, cached, refetched within limits", () => {
  const current = githubSigner('k1');
  const next = githubSigner('k2');
  let now = Date.parse('2026-12-01T10:00:00Z');
  let keys: KeysServer;
  let t: TestServer;
  beforeAll(async () => {
    keys = await startKeysServer(keysDocument(current));
    t = await startTestServer(
      { githubScanningKeysUrl: keys.url, githubScanningToken: 'github_pat_for_rate_limits' },
      { clock: () => now },
    );
  });
  afterAll(async () => {
    await t.close();
    await keys.close();
  });
  const alert = (signer: ReturnType<typeof githubSigner>) =>
    sendAlert(t.url, JSON.stringify([match('not_a_keyward_key')]), signer);

  it('fetches on the first alert, with the token, and serves the next ones from the cache', async () => {
    expect(keys.requests).toBe(0);
    expect((await alert(current)).status).toBe(200);
    expect(keys.requests).toBe(1);
    expect(keys.lastHeaders.authorization).toBe('Bearer github_pat_for_rate_limits');
    for (let i = 0; i < 3; i += 1) expect((await alert(current)).status).toBe(200);
    expect(keys.requests).toBe(1);
    expect(t.logLines.join('')).not.toContain('github_pat_for_rate_limits');
  });

  it('refetches once when an alert names a new key, and at most once a minute for made-up ones', async () => {
    keys.document = keysDocument(current, next);
    now += MINUTE;
    expect((await alert(next)).status).toBe(200);
    expect(keys.requests).toBe(2);
    const bogus = githubSigner('made-up');
    for (let i = 0; i < 5; i += 1) expect((await alert(bogus)).status).toBe(401);
    expect(keys.requests).toBe(2);
    now += MINUTE;
    expect((await alert(bogus)).status).toBe(401);
    expect(keys.requests).toBe(3);
    expect((await alert(current)).status).toBe(200);
    expect(keys.requests).toBe(3);
  });

  it('reads again after the TTL with a conditional request, and keeps the keys it has when GitHub fails', async () => {
    now += 61 * MINUTE;
    expect((await alert(next)).status).toBe(200);
    expect(keys.requests).toBe(4);
    expect(keys.lastHeaders['if-none-match']).toMatch(/^"/);

    keys.failWith = 500;
    now += 61 * MINUTE;
    expect((await alert(next)).status).toBe(200);
    expect(keys.requests).toBe(5);
    expect(t.logLines.some((line) => line.includes("loading GitHub's secret-scanning keys failed"))).toBe(true);
    keys.failWith = null;
  });
});

describe("GitHub's signing keys unavailable", () => {
  const github = githubSigner('k1');
  let now = Date.parse('2026-12-01T10:00:00Z');
  let keys: KeysServer;
  let t: TestServer;
  beforeAll(async () => {
    keys = await startKeysServer(keysDocument(github));
    keys.failWith = 503;
    t = await startTestServer({ githubScanningKeysUrl: keys.url }, { clock: () => now });
  });
  afterAll(async () => {
    await t.close();
    await keys.close();
  });

  it('answers 503 with a clear error (never a 500, never the URL), and recovers once the keys load', async () => {
    const key = await t.client.keys.create({ name: 'waits for GitHub' });
    const body = JSON.stringify([match(key.key)]);
    const refused = await sendAlert(t.url, body, github);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('KW_ERR_UNAVAILABLE');
    expect(refused.body.error.message).toContain("GitHub's secret-scanning public keys could not be loaded");
    expect(refused.body.error.message).not.toContain('127.0.0.1');
    expect(refused.headers.get('retry-after')).toBe('60');
    // An unsigned request cannot make keyward fetch again: the refetch limit holds.
    expect((await sendAlert(t.url, body, null)).status).toBe(401);
    expect((await sendAlert(t.url, body, github)).status).toBe(503);
    expect(keys.requests).toBe(1);
    expect((await t.client.keys.get(key.id)).status).toBe('active');

    keys.failWith = null;
    now += MINUTE;
    const accepted = await sendAlert(t.url, body, github);
    expect(accepted.status).toBe(200);
    expect(accepted.body[0].label).toBe('true_positive');
    expect((await t.client.keys.get(key.id)).status).toBe('suspended');
  });
});

describe("GitHub's signing keys from a file, for machines without internet", () => {
  const first = githubSigner('file-1');
  const second = githubSigner('file-2');
  const dir = mkdtempSync(join(tmpdir(), 'keyward-github-keys-'));
  const file = join(dir, 'github-keys.json');
  let now = Date.parse('2026-12-01T10:00:00Z');
  let t: TestServer;
  beforeAll(async () => {
    // An RSA key under some identifier: never usable, as GitHub signs with ECDSA P-256 only.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaEntry = { key_identifier: 'rsa', key: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    writeFileSync(file, JSON.stringify({ public_keys: [first.entry, rsaEntry] }));
    // The URL cannot be reached: the file is the source, and the URL is never tried.
    t = await startTestServer(
      { githubScanningKeysFile: file, githubScanningKeysUrl: 'http://127.0.0.1:9/unreachable' },
      { clock: () => now },
    );
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks alerts against the file, rereads it when GitHub rotates, and ignores keys that are not P-256', async () => {
    const body = JSON.stringify([match('kw_live_nothing')]);
    expect((await sendAlert(t.url, body, first)).status).toBe(200);
    writeFileSync(file, keysDocument(first, second));
    now += MINUTE;
    expect((await sendAlert(t.url, body, second)).status).toBe(200);
    const rsaSigned = sign('sha256', Buffer.from(body), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const rsa = await sendAlert(t.url, body, null, {
      'github-public-key-identifier': 'rsa',
      'github-public-key-signature': rsaSigned.toString('base64'),
    });
    expect(rsa.status).toBe(401);
  });
});

describe("GitHub's signing keys as inline JSON", () => {
  it('refuses to start on a value that is not the keys document, naming the variable', () => {
    expect(() => loadConfig({ KEYWARD_GITHUB_SCANNING_KEYS: 'not json' })).toThrow(
      /KEYWARD_GITHUB_SCANNING_KEYS: must be JSON/,
    );
    expect(() => loadConfig({ KEYWARD_GITHUB_SCANNING_KEYS: '{"public_keys":[]}' })).toThrow(
      /KEYWARD_GITHUB_SCANNING_KEYS\[public_keys\]/,
    );
    expect(loadConfig({ KEYWARD_GITHUB_SCANNING_KEYS: keysDocument(githubSigner('x')) }).githubScanningKeys).toEqual({
      public_keys: [expect.objectContaining({ key_identifier: 'x' })],
    });
  });
});
