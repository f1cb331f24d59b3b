import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { buildConsoleInto, signInOverHttp } from '../support/console';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * The console's files, as the server sends them: the strict headers on every /console answer, the
 * first load under 200 KB gzipped (what actually goes over the wire), and nothing from elsewhere.
 */

/** GETs a path with Accept-Encoding: gzip and returns the bytes as sent, undecoded. */
function fetchRaw(url: string): Promise<{ status: number; headers: Record<string, unknown>; bytes: number }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers: { 'accept-encoding': 'gzip' } }, (incoming) => {
      let bytes = 0;
      incoming.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, bytes }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const FIRST_LOAD_BUDGET_BYTES = 200 * 1024;

describe('the console files and their headers', () => {
  let t: TestServer;
  let consoleDir: string;
  beforeAll(async () => {
    consoleDir = buildConsoleInto();
    t = await startTestServer({ consoleDir });
  });
  afterAll(async () => {
    await t.close();
    rmSync(consoleDir, { recursive: true, force: true });
  });

  const expectStrictHeaders = (headers: Headers) => {
    const csp = headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('referrer-policy')).toBe('no-referrer');
  };

  it('serves one page at /console and every path under it, with the strict headers', async () => {
    for (const path of ['/console', '/console/', '/console/keys', '/console/keys/key_123/edit']) {
      const page = await raw(t.url, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expectStrictHeaders(page.headers);
      expect(page.body).toContain('<div id="app">');
    }
  });

  it('puts headers on the session routes and their errors too', async () => {
    expectStrictHeaders((await raw(t.url, 'GET', '/console/session')).headers);
    expectStrictHeaders((await raw(t.url, 'POST', '/console/session', { body: {} })).headers);
    const missing = await raw(t.url, 'GET', '/console/assets/nope.js');
    expect(missing.status).toBe(404);
    expectStrictHeaders(missing.headers);
  });

  it('has no inline script or style and loads nothing from another origin', async () => {
    const page = (await raw(t.url, 'GET', '/console')).body as string;
    const scripts = [...page.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/console\/assets\/main-[A-Z0-9]+\.js"/);
      expect(body).toBe('');
    }
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    const script = await raw(t.url, 'GET', page.match(/src="([^"]+\.js)"/)![1]!);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectStrictHeaders(script.headers);
    // No URL to another host is fetched by the bundle: the only fetches are relative (/v1, /console).
    expect(script.body).not.toMatch(/fetch\(["'`]https?:/);
    expect(script.body).not.toMatch(/import\(["'`]https?:/);
  });

  it(`keeps the first load (HTML, JS and CSS, gzipped as sent) under ${FIRST_LOAD_BUDGET_BYTES / 1024} KB`, async () => {
    const page = await fetchRaw(`${t.url}/console`);
    expect(page.headers['content-encoding']).toBe('gzip');
    const html = (await raw(t.url, 'GET', '/console')).body as string;
    const files = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(files.some((file) => file.endsWith('.js'))).toBe(true);
    expect(files.some((file) => file.endsWith('.css'))).toBe(true);
    let total = page.bytes;
    for (const file of files) {
      const sent = await fetchRaw(`${t.url}${file}`);
      expect(sent.status).toBe(200);
      expect(sent.headers['content-encoding']).toBe('gzip');
      total += sent.bytes;
    }
    process.stdout.write(`console first load: ${(total / 1024).toFixed(1)} KB gzipped\n`);
    expect(total).toBeLessThan(FIRST_LOAD_BUDGET_BYTES);
  });

  it('answers a conditional GET with 304', async () => {
    const first = await raw(t.url, 'GET', '/console');
    const again = await raw(t.url, 'GET', '/console', { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('leaves the /v1 API and /docs as they were: a cookie session is one more way in, not another API', async () => {
    const browser = await signInOverHttp(t.url, t.rootKey);
    const keys = await browser.request('GET', '/v1/keys');
    expect(keys.status).toBe(200);
    expect(keys.headers.get('content-security-policy')).toBeNull();
    expect((await raw(t.url, 'GET', '/v1/keys')).status).toBe(401);
  });
});
