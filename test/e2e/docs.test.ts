import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';

const CHROMIUM = process.env.CHROMIUM_BIN ?? 'chromium';

/** Loads a page in headless Chromium, lets its scripts run, and returns the rendered DOM. */
function renderedDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'keyward-chromium-'));
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=10000',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, flags, { maxBuffer: 32 * 1024 * 1024, timeout: 60_000 }, (error, stdout) => {
      rmSync(profile, { recursive: true, force: true });
      if (error && !stdout) reject(error);
      else resolve(stdout);
    });
  });
}

/* A person opens the API docs the server links to, in a real browser. */
describe('the /docs page in Chromium', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const environment = await serveEnvironment('keyward-docs-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
  });
  afterAll(async () => {
    await server.stop();
    await cleanup();
  });

  it('renders every API operation from the OpenAPI document', async () => {
    const dom = await renderedDom(`${server.url}/docs/`);
    const paths = new Set([...dom.matchAll(/data-path="([^"]+)"/g)].map((match) => match[1]));
    for (const path of [
      '/v1/keys',
      '/v1/keys/{id}',
      '/v1/keys/{id}/rotate',
      '/v1/verify',
      '/v1/audit',
      '/v1/calls',
      '/v1/root-keys',
    ]) {
      expect(paths).toContain(path);
    }
    expect(dom).toContain('keyward');
    expect(dom).toContain('Verify an API key against scopes and the caller IP');
  });
});
