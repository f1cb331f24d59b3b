import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Keyward,
  KeywardNetworkError,
  KeywardRateLimitError,
  KeywardResponseError,
  KeywardServerError,
  KeywardTimeoutError,
  KeywardValidationError,
} from '../../sdk';
import { countKeysNamed, startTestServer, type TestServer } from '../support/harness';

/**
 * A real HTTP server in front of keyward that misbehaves on purpose: `plan` decides, attempt by
 * attempt, whether to forward, to answer an error itself, or to forward and then drop the answer
 * (the worst case for a create: the key exists, the client never hears of it).
 */
type Step =
  | 'forward'
  | 'drop-connection'
  | 'forward-then-drop'
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { hang: true };

async function flakyProxy(
  target: string,
  plan: Step[],
): Promise<{ url: string; attempts: () => number; close(): Promise<void> }> {
  let attempts = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const step = plan[attempts] ?? 'forward';
    attempts += 1;
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      if (step === 'drop-connection') return incoming.socket.destroy();
      if (typeof step === 'object' && 'hang' in step) return;
      if (typeof step === 'object') {
        outgoing.writeHead(step.status, { 'content-type': 'application/json', ...(step.headers ?? {}) });
        return outgoing.end(JSON.stringify(step.body ?? {}));
      }
      const upstream = httpRequest(
        `${target}${incoming.url}`,
        { method: incoming.method, headers: incoming.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            if (step === 'forward-then-drop') return incoming.socket.destroy();
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(Buffer.concat(body));
          });
        },
      );
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts: () => attempts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('SDK retries', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  const count = (name: string) => countKeysNamed(t.client, name);
  const via = (url: string, extra: Partial<ConstructorParameters<typeof Keyward>[0]> = {}) =>
    new Keyward({ baseUrl: url, rootKey: t.rootKey, retries: 3, retryBaseDelayMs: 10, ...extra });

  it('retries a create whose answer was lost, and never makes a second key', async () => {
    const proxy = await flakyProxy(t.url, ['forward-then-drop', 'forward-then-drop', 'forward']);
    try {
      const created = await via(proxy.url).keys.create({ name: 'lost-answer' });
      expect(proxy.attempts()).toBe(3);
      expect(await count('lost-answer')).toBe(1);
      expect((await t.client.verify({ key: created.key })).code).toBe('VALID');
    } finally {
      await proxy.close();
    }
  });

  it('retries a rotate on 5xx with the same Idempotency-Key: one successor', async () => {
    const key = await t.client.keys.create({ name: 'rotate-flaky' });
    const proxy = await flakyProxy(t.url, ['forward-then-drop', { status: 503 }, 'forward']);
    try {
      const next = await via(proxy.url).keys.rotate(key.id, { gracePeriodSeconds: 60 });
      expect(proxy.attempts()).toBe(3);
      expect(await count('rotate-flaky')).toBe(2);
      expect(next.predecessorId).toBe(key.id);
    } finally {
      await proxy.close();
    }
  });

  it('retries network errors and 5xx on reads, and gives up after `retries`', async () => {
    const key = await t.client.keys.create({ name: 'reads' });
    const recovering = await flakyProxy(t.url, ['drop-connection', { status: 502 }, 'forward']);
    try {
      expect((await via(recovering.url).keys.get(key.id)).id).toBe(key.id);
      expect(recovering.attempts()).toBe(3);
    } finally {
      await recovering.close();
    }
    const broken = await flakyProxy(
      t.url,
      Array(10).fill({
        status: 500,
        body: { error: { code: 'KW_ERR_INTERNAL', message: 'boom', requestId: 'req_x' } },
      }),
    );
    try {
      await expect(via(broken.url).keys.get(key.id)).rejects.toBeInstanceOf(KeywardServerError);
      expect(broken.attempts()).toBe(4);
    } finally {
      await broken.close();
    }
  });

  it('honours Retry-After on 429', async () => {
    const proxy = await flakyProxy(t.url, [
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { code: 'KW_ERR_RATE_LIMITED', message: 'slow down', requestId: 'req_y' } },
      },
      'forward',
    ]);
    try {
      const started = Date.now();
      await via(proxy.url).keys.list()[Symbol.asyncIterator]().next();
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(proxy.attempts()).toBe(2);
    } finally {
      await proxy.close();
    }
    const always = await flakyProxy(
      t.url,
      Array(10).fill({
        status: 429,
        headers: { 'retry-after': '0' },
        body: { error: { code: 'KW_ERR_RATE_LIMITED', message: 'no', requestId: 'req_z' } },
      }),
    );
    try {
      await expect(via(always.url, { retries: 1 }).keys.list()[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
        KeywardRateLimitError,
      );
    } finally {
      await always.close();
    }
  });

  it('does not retry a 4xx', async () => {
    const proxy = await flakyProxy(t.url, []);
    try {
      await expect(via(proxy.url).keys.create({ name: '' })).rejects.toBeInstanceOf(KeywardValidationError);
      expect(proxy.attempts()).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('reports timeouts, unreachable servers, and answers that break the schema', async () => {
    const hanging = await flakyProxy(t.url, Array(5).fill({ hang: true }));
    try {
      await expect(via(hanging.url, { timeoutMs: 200, retries: 1 }).keys.get('key_x')).rejects.toBeInstanceOf(
        KeywardTimeoutError,
      );
      expect(hanging.attempts()).toBe(2);
    } finally {
      await hanging.close();
    }
    await expect(via('http://127.0.0.1:9', { retries: 0 }).keys.get('key_x')).rejects.toBeInstanceOf(
      KeywardNetworkError,
    );
    const liar = await flakyProxy(t.url, [{ status: 200, body: { id: 'key_x', name: 42 } }]);
    try {
      const error = await via(liar.url)
        .keys.get('key_x')
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(KeywardResponseError);
      expect((error as Error).message).toMatch(/at (kind|name|id|workspaceId)/);
    } finally {
      await liar.close();
    }
  });
});
