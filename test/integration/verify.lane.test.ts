import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { generateKey } from '../../server/keys/format';
import { raw, startTestServer, type TestServer } from '../support/harness';
import { withWrongChecksum } from '../support/keys';

/*
 * POST /v1/verify is answered by the verify lane ahead of fastify, at every log level; the lane
 * passes a request with a chunked body to fastify untouched. So the same request, framed with a
 * Content-Length (the lane answers) and chunked (fastify answers), tells the lane from the plain
 * path. An API owner must not be able to tell which one answered: the same requests get the same
 * status, headers and body from both. The reference server logs at debug, where fastify writes an
 * "incoming request" line, so each case also checks that fastify did answer the reference.
 */

/** What must match between the two servers: ids, keys and times differ by nature, so they are masked. */
function normalize(value: unknown): unknown {
  if (typeof value === 'string') {
    return value
      .replace(/\bkey_[A-Za-z0-9]+/g, 'key_*')
      .replace(/\breq_[A-Za-z0-9_-]+/g, 'req_*')
      .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<time>');
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([name, field]) => [name, normalize(field)]));
  return value;
}

/** How a body is framed: with a Content-Length, which the lane takes, or chunked, which it passes to fastify. */
type Framing = 'length' | 'chunked';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** Sends a request with its body framed as asked; the body goes in two chunks when chunked. */
function post(
  base: string,
  framing: Framing,
  sent: { path?: string; headers: Record<string, string>; body: string },
  agent?: Agent,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...sent.headers };
    if (framing === 'chunked') headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = Buffer.byteLength(sent.body);
    const request = httpRequest(
      new URL(sent.path ?? '/v1/verify', base),
      { method: 'POST', headers, ...(agent ? { agent } : {}) },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += String(chunk)));
        response.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: compared as text
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        });
      },
    );
    request.on('error', reject);
    if (framing === 'chunked') {
      const half = Math.floor(sent.body.length / 2);
      if (half > 0) request.write(sent.body.slice(0, half));
      request.end(sent.body.slice(half));
    } else request.end(sent.body);
  });
}

/** Sends header lines exactly as given (repeats, odd spellings), which fetch would merge or normalise. */
function rawLines(
  base: string,
  framing: Framing,
  headerLines: string[],
  body: string,
): Promise<{ status: number; requestId: string | null; body: unknown }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      const framed =
        framing === 'chunked'
          ? ['Transfer-Encoding: chunked', '', `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`]
          : [`Content-Length: ${Buffer.byteLength(body)}`, '', body];
      socket.write(
        [`POST /v1/verify HTTP/1.1`, `Host: ${url.host}`, ...headerLines, 'Connection: close', ...framed].join('\r\n'),
      );
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += String(chunk)));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', payload = ''] = text.split('\r\n\r\n');
      const requestId = /^x-request-id: (.*)$/im.exec(head)?.[1] ?? null;
      let parsed: unknown = payload;
      try {
        parsed = JSON.parse(payload);
      } catch {
        // not JSON: compared as text
      }
      resolve({ status: Number(head.split(' ')[1]), requestId, body: parsed });
    });
  });
}

/** The server's log lines about one request, parsed. */
function linesAbout(t: TestServer, requestId: string | null): Array<Record<string, unknown>> {
  return t.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => requestId !== null && line.reqId === requestId);
}

/** Whether fastify answered a request: at debug it logs "incoming request" for every request it routes. */
function fastifyAnswered(t: TestServer, requestId: string | null): boolean {
  return linesAbout(t, requestId).some((line) => line.msg === 'incoming request');
}

describe('verify lane: answers exactly as the fastify route does', () => {
  let laned: TestServer;
  let reference: TestServer;
  const keys = new Map<TestServer, { live: string; reader: string }>();

  beforeAll(async () => {
    // The same server twice; the reference logs at debug, to show that fastify answered it.
    [laned, reference] = await Promise.all([startTestServer(), startTestServer({ logLevel: 'debug' })]);
    for (const t of [laned, reference]) {
      const live = await t.client.keys.create({
        name: 'lane',
        scopes: ['contacts:*'],
        ipAllowlist: ['10.0.0.0/8'],
        metadata: { plan: 'pro' },
      });
      const reader = await t.client.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
      keys.set(t, { live: live.key, reader: reader.key });
    }
  });
  afterAll(async () => Promise.all([laned.close(), reference.close()]));

  /** Each case: what to send, given the server's own keys. */
  const cases: Array<
    [
      string,
      (k: { live: string; reader: string; root: string }) => {
        path?: string;
        rootKey?: string;
        body?: unknown;
        rawBody?: string;
        headers?: Record<string, string>;
      },
    ]
  > = [
    [
      'a valid key',
      (k) => ({
        rootKey: k.root,
        body: { key: k.live, scopes: ['contacts:read'], ip: '10.1.2.3', method: 'GET', path: '/contacts' },
      }),
    ],
    ['a missing scope', (k) => ({ rootKey: k.root, body: { key: k.live, scopes: ['email:send'], ip: '10.1.2.3' } })],
    ['an address outside the allowlist', (k) => ({ rootKey: k.root, body: { key: k.live, ip: '192.0.2.1' } })],
    ['an unknown well-formed key', (k) => ({ rootKey: k.root, body: { key: generateKey('live') } })],
    ['a typo', (k) => ({ rootKey: k.root, body: { key: withWrongChecksum(k.live) } })],
    ['no key at all', (k) => ({ rootKey: k.root, body: {} })],
    ['an unknown field', (k) => ({ rootKey: k.root, body: { key: k.live, tenant: 'acme' } })],
    ['a bad address', (k) => ({ rootKey: k.root, body: { key: k.live, ip: 'not-an-ip' } })],
    ['a wrong type', (k) => ({ rootKey: k.root, body: { key: k.live, scopes: 'contacts:read' } })],
    [
      'JSON that does not parse',
      (k) => ({ rootKey: k.root, rawBody: '{"key":', headers: { 'content-type': 'application/json' } }),
    ],
    [
      'a poisoned prototype',
      (k) => ({
        rootKey: k.root,
        rawBody: `{"key":"${k.live}","__proto__":{"admin":true}}`,
        headers: { 'content-type': 'application/json' },
      }),
    ],
    [
      'a poisoned constructor',
      (k) => ({
        rootKey: k.root,
        rawBody: `{"key":"${k.live}","constructor":{"prototype":{"admin":true}}}`,
        headers: { 'content-type': 'application/json' },
      }),
    ],
    [
      'a prototype key written with escapes',
      (k) => ({
        rootKey: k.root,
        rawBody: `{"key":"${k.live}","\\u005f_proto__":{"admin":true}}`,
        headers: { 'content-type': 'application/json' },
      }),
    ],
    [
      'a constructor key written with escapes',
      (k) => ({
        rootKey: k.root,
        rawBody: `{"key":"${k.live}","\\u0063onstructor":{"prototype":{"admin":true}}}`,
        headers: { 'content-type': 'application/json' },
      }),
    ],
    [
      '"constructor" and "__proto__" as values only',
      (k) => ({ rootKey: k.root, body: { key: k.live, method: 'constructor', path: '/__proto__' } }),
    ],
    [
      'a body with escapes in its strings',
      (k) => ({
        rootKey: k.root,
        rawBody: `{"key":"${k.live}","path":"/a\\"b\\\\c\\u00e9"}`,
        headers: { 'content-type': 'application/json' },
      }),
    ],
    [
      'a body that starts with a byte order mark',
      (k) => ({
        rootKey: k.root,
        rawBody: `\ufeff${JSON.stringify({ key: k.live })}`,
        headers: { 'content-type': 'application/json' },
      }),
    ],
    ['an empty JSON body', (k) => ({ rootKey: k.root, rawBody: '', headers: { 'content-type': 'application/json' } })],
    [
      'a body over the limit',
      (k) => ({
        rootKey: k.root,
        rawBody: JSON.stringify({ key: k.live, path: 'x'.repeat(70_000) }),
        headers: { 'content-type': 'application/json' },
      }),
    ],
    ['a text body', (k) => ({ rootKey: k.root, rawBody: k.live, headers: { 'content-type': 'text/plain' } })],
    [
      'another charset',
      (k) => ({
        rootKey: k.root,
        rawBody: JSON.stringify({ key: k.live }),
        headers: { 'content-type': 'application/json; charset=utf-16' },
      }),
    ],
    [
      'a charset in capitals',
      (k) => ({
        rootKey: k.root,
        rawBody: JSON.stringify({ key: k.live }),
        headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
      }),
    ],
    ['no root key', (k) => ({ body: { key: k.live } })],
    ['a root key that does not exist', (k) => ({ rootKey: generateKey('root'), body: { key: k.live } })],
    ['an API key in place of a root key', (k) => ({ rootKey: k.live, body: { key: k.live } })],
    ['a root key without the verify scope', (k) => ({ rootKey: k.reader, body: { key: k.live } })],
    ['a trailing slash', (k) => ({ path: '/v1/verify/', rootKey: k.root, body: { key: k.live } })],
    ['a query string', (k) => ({ path: '/v1/verify?trace=1', rootKey: k.root, body: { key: k.live } })],
    [
      'the caller’s own request id',
      (k) => ({ rootKey: k.root, body: {}, headers: { 'x-request-id': 'trace-0123456789' } }),
    ],
  ];

  it.each(cases)('%s', async (_name, make) => {
    const answers = await Promise.all(
      ([laned, reference] as const).map(async (t) => {
        const sent = make({ ...keys.get(t)!, root: t.rootKey });
        const headers: Record<string, string> = { ...(sent.headers ?? {}) };
        if (sent.rootKey) headers.authorization = `Bearer ${sent.rootKey}`;
        if (sent.body !== undefined) headers['content-type'] ??= 'application/json';
        const body = sent.rawBody ?? (sent.body === undefined ? '' : JSON.stringify(sent.body));
        const answer = await post(t.url, t === laned ? 'length' : 'chunked', { path: sent.path, headers, body });
        const requestId = answer.headers['x-request-id'] as string | undefined;
        if (t === reference) expect(fastifyAnswered(t, requestId ?? null)).toBe(true);
        return {
          status: answer.status,
          body: normalize(answer.body),
          contentType: answer.headers['content-type'],
          requestId: normalize(requestId),
          retryAfter: answer.headers['retry-after'] !== undefined,
        };
      }),
    );
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.status).toBeLessThan(500);
    expect(answers[0]!.contentType).toMatch(/^application\/json/);
  });

  /** Header lines as a client may send them; the lane reads a few headers itself and must read them as node does. */
  const headerCases: Array<[string, (k: { live: string; reader: string; root: string }) => string[]]> = [
    [
      'header names in other spellings',
      (k) => [
        'CONTENT-TYPE: application/json',
        `AUTHORIZATION: Bearer ${k.root}`,
        'X-REQUEST-ID: trace-abcdefgh01',
        'User-agent: probe/1',
      ],
    ],
    [
      'the content type twice',
      (k) => ['Content-Type: application/json', 'Content-Type: text/plain', `Authorization: Bearer ${k.root}`],
    ],
    [
      'the content type twice, other first',
      (k) => ['Content-Type: text/plain', 'content-type: application/json', `Authorization: Bearer ${k.root}`],
    ],
    [
      'a good and a bad root key',
      (k) => ['Content-Type: application/json', `Authorization: Bearer ${k.root}`, `authorization: Bearer ${k.reader}`],
    ],
    [
      'a bad and a good root key',
      (k) => ['Content-Type: application/json', `Authorization: Bearer ${k.reader}`, `Authorization: Bearer ${k.root}`],
    ],
    [
      'the request id twice',
      (k) => [
        'Content-Type: application/json',
        `Authorization: Bearer ${k.root}`,
        'X-Request-Id: trace-aaaaaaaa01',
        'x-request-id: trace-bbbbbbbb02',
      ],
    ],
    [
      'the user agent twice',
      (k) => [
        'Content-Type: application/json',
        `Authorization: Bearer ${k.root}`,
        'User-Agent: one',
        'User-Agent: two',
      ],
    ],
  ];

  it.each(headerCases)('%s', async (_name, make) => {
    const answers = await Promise.all(
      ([laned, reference] as const).map(async (t) => {
        const k = { ...keys.get(t)!, root: t.rootKey };
        const framing = t === laned ? 'length' : 'chunked';
        const answer = await rawLines(t.url, framing, make(k), JSON.stringify({ key: k.live, ip: '10.1.2.3' }));
        if (t === reference) expect(fastifyAnswered(t, answer.requestId)).toBe(true);
        return { status: answer.status, body: normalize(answer.body), requestId: normalize(answer.requestId) };
      }),
    );
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.status).toBeLessThan(500);
    if (_name === 'header names in other spellings')
      expect(answers[0]).toMatchObject({ status: 200, body: { code: 'VALID' }, requestId: 'trace-abcdefgh01' });
  });

  it('serves POST /v1/verify at debug too, logging each request in one line with the fields fastify logs', async () => {
    const { live } = keys.get(reference)!;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${reference.rootKey}` };
    const body = JSON.stringify({ key: live, ip: '10.1.2.3', path: `/export?api_key=${live}` });
    const laneAnswer = await post(reference.url, 'length', { headers, body });
    const fastifyAnswer = await post(reference.url, 'chunked', { headers, body });
    expect([laneAnswer.status, fastifyAnswer.status]).toEqual([200, 200]);
    expect((laneAnswer.body as { code: string }).code).toBe('VALID');

    const laneLines = linesAbout(reference, laneAnswer.headers['x-request-id'] as string);
    // One line, at debug, and no "incoming request": fastify never saw the request.
    expect(laneLines).toEqual([
      expect.objectContaining({
        level: 20,
        msg: 'request completed',
        req: {
          method: 'POST',
          url: '/v1/verify',
          host: '127.0.0.1',
          remoteAddress: '127.0.0.1',
          remotePort: expect.any(Number),
        },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    ]);
    // The same request fields fastify logs for the request it answered.
    const incoming = linesAbout(reference, fastifyAnswer.headers['x-request-id'] as string).find(
      (line) => line.msg === 'incoming request',
    );
    expect(Object.keys(laneLines[0]!.req as object).sort()).toEqual(Object.keys(incoming!.req as object).sort());
    expect({ ...(laneLines[0]!.req as object), remotePort: 0 }).toEqual({
      ...(incoming!.req as object),
      remotePort: 0,
    });
    // Neither key is ever written.
    const written = JSON.stringify(laneLines);
    expect(written).not.toContain(live);
    expect(written).not.toContain(reference.rootKey);
  });

  it('remembers a root key per connection without mixing up keys that take turns on it', async () => {
    const { live, reader } = keys.get(reference)!;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify({ key: live, ip: '10.1.2.3' });
    const send = (authorization?: string) =>
      post(
        reference.url,
        'length',
        {
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body,
        },
        agent,
      );
    try {
      const statuses: number[] = [];
      for (const authorization of [
        `Bearer ${reference.rootKey}`,
        `Bearer ${reader}`,
        `Bearer ${reference.rootKey}`,
        `Bearer ${generateKey('root')}`,
        `Bearer ${reference.rootKey}`,
        undefined,
        `Bearer ${reference.rootKey}`,
      ])
        statuses.push((await send(authorization)).status);
      expect(statuses).toEqual([200, 403, 200, 401, 200, 401, 200]);
    } finally {
      agent.destroy();
    }
  });

  it('answers a burst read in one turn each with its own verdict, in order, whatever the others hold', async () => {
    const { live, reader } = keys.get(laned)!;
    const unknown = generateKey('live');
    const root = `Bearer ${laned.rootKey}`;
    // What each request holds, and the status and code it must get back: the lane answers the
    // requests whose bodies end in one turn together, so good and bad ones are mixed.
    const kinds: Array<{ authorization: string; body: string; status: number; code: string }> = [
      { authorization: root, body: JSON.stringify({ key: live, ip: '10.1.2.3' }), status: 200, code: 'VALID' },
      {
        authorization: root,
        body: JSON.stringify({ key: live, ip: '192.0.2.1' }),
        status: 200,
        code: 'IP_NOT_ALLOWED',
      },
      { authorization: root, body: JSON.stringify({ key: unknown, ip: '10.1.2.3' }), status: 200, code: 'NOT_FOUND' },
      { authorization: root, body: '{"key":', status: 400, code: 'KW_ERR_BAD_JSON' },
      {
        authorization: `Bearer ${reader}`,
        body: JSON.stringify({ key: live, ip: '10.1.2.3' }),
        status: 403,
        code: 'KW_ERR_FORBIDDEN',
      },
      {
        authorization: root,
        body: JSON.stringify({ key: live, ip: '10.1.2.3', scopes: ['deals:read'] }),
        status: 200,
        code: 'INSUFFICIENT_SCOPE',
      },
    ];
    const burst = Array.from({ length: 48 }, (_, index) => ({
      ...kinds[index % kinds.length]!,
      id: `trace-burst-${index}`,
    }));
    const url = new URL(laned.url);
    // Pipelined in one write: node parses them from one read, so their bodies end in one turn.
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          burst
            .map((sent, index) =>
              [
                'POST /v1/verify HTTP/1.1',
                `Host: ${url.host}`,
                'Content-Type: application/json',
                `Authorization: ${sent.authorization}`,
                `X-Request-Id: ${sent.id}`,
                `Content-Length: ${Buffer.byteLength(sent.body)}`,
                ...(index === burst.length - 1 ? ['Connection: close'] : []),
                '',
                sent.body,
              ].join('\r\n'),
            )
            .join(''),
        );
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += String(chunk)));
      socket.on('error', reject);
      socket.on('end', () => resolve(received));
    });
    /** An answer as read off the wire: a verdict's code, or an error's code and the request id it names. */
    type Body = { code?: string; error?: { code: string; requestId: string } };
    const answers: Array<{ status: number; id: string | undefined; code: string | undefined }> = [];
    for (let rest = text; rest.length > 0; ) {
      const end = rest.indexOf('\r\n\r\n');
      const head = rest.slice(0, end);
      const length = Number(/^content-length: (\d+)$/im.exec(head)?.[1]);
      const body = JSON.parse(rest.slice(end + 4, end + 4 + length)) as Body;
      const id = /^x-request-id: (.*)$/im.exec(head)?.[1];
      if (body.error) expect(body.error.requestId).toBe(id);
      answers.push({ status: Number(head.split(' ')[1]), id, code: body.code ?? body.error?.code });
      rest = rest.slice(end + 4 + length);
    }
    expect(answers).toEqual(burst.map(({ status, code, id }) => ({ status, id, code })));
  });

  it('takes a chunked body too (through fastify), and counts every answer in the metrics', async () => {
    const body = JSON.stringify({ key: keys.get(laned)!.live, ip: '10.9.9.9' });
    const answer = await post(laned.url, 'chunked', {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${laned.rootKey}` },
      body,
    });
    expect(answer).toMatchObject({ status: 200, body: { code: 'VALID' } });
    const metrics = await raw(laned.url, 'GET', '/metrics');
    expect(metrics.body).toMatch(/keyward_http_requests_total\{method="POST",route="\/v1\/verify",status="200"\} \d+/);
    expect(metrics.body).toMatch(/keyward_http_requests_total\{method="POST",route="\/v1\/verify",status="400"\} \d+/);
    expect(metrics.body).toMatch(
      /keyward_http_request_duration_seconds_count\{method="POST",route="\/v1\/verify"\} \d+/,
    );
    expect(metrics.body).toMatch(/keyward_verifications_total\{code="VALID"\} \d+/);
  });

  it('lives through clients that go away halfway through their body, and answers the next one', async () => {
    const url = new URL(laned.url);
    const body = JSON.stringify({ key: keys.get(laned)!.live, ip: '10.1.2.3' });
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, index) =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(url.port), url.hostname, () => {
              const head = [
                `POST /v1/verify HTTP/1.1`,
                `Host: ${url.host}`,
                'Content-Type: application/json',
                `Authorization: Bearer ${laned.rootKey}`,
                `Content-Length: ${body.length}`,
                '',
                '',
              ].join('\r\n');
              socket.write(head + body.slice(0, index * 2));
              // Reset half of them, close the other half politely: either way the body never ends.
              setTimeout(() => (index % 2 ? socket.resetAndDestroy() : socket.end()), 20);
            });
            socket.on('error', () => undefined);
            // Node answers a body cut short by the client's end with 400, then ends the connection.
            socket.on('end', () => socket.destroy());
            socket.resume();
            socket.on('close', () => resolve());
          }),
      ),
    );
    const after = await raw(laned.url, 'POST', '/v1/verify', {
      rootKey: laned.rootKey,
      body: JSON.parse(body) as unknown,
    });
    expect(after).toMatchObject({ status: 200, body: { code: 'VALID' } });
  });

  it('counts each answer exactly once, in the request, duration and outcome metrics', async () => {
    const sample = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    const read = async () => {
      const text = (await raw(laned.url, 'GET', '/metrics')).body as unknown as string;
      return {
        ok: sample(text, /keyward_http_requests_total\{method="POST",route="\/v1\/verify",status="200"\} (\d+)/),
        bad: sample(text, /keyward_http_requests_total\{method="POST",route="\/v1\/verify",status="400"\} (\d+)/),
        timed: sample(text, /keyward_http_request_duration_seconds_count\{method="POST",route="\/v1\/verify"\} (\d+)/),
        valid: sample(text, /keyward_verifications_total\{code="VALID"\} (\d+)/),
        malformed: sample(text, /keyward_verifications_total\{code="MALFORMED"\} (\d+)/),
      };
    };
    const before = await read();
    for (let i = 0; i < 5; i += 1) await laned.client.verify({ key: keys.get(laned)!.live, ip: '10.1.2.3' });
    for (let i = 0; i < 3; i += 1) await laned.client.verify({ key: 'kw_live_typo', ip: '10.1.2.4' });
    for (let i = 0; i < 2; i += 1)
      await raw(laned.url, 'POST', '/v1/verify', { rootKey: laned.rootKey, body: { key: 42 } });
    const after = await read();
    expect({
      ok: after.ok - before.ok,
      bad: after.bad - before.bad,
      timed: after.timed - before.timed,
      valid: after.valid - before.valid,
      malformed: after.malformed - before.malformed,
    }).toEqual({
      ok: 8,
      bad: 2,
      timed: 10,
      valid: 5,
      malformed: 3,
    });
  });

  it('writes the duration histogram as Prometheus expects: cumulative buckets, +Inf equal to the count, and the sum', async () => {
    await laned.client.verify({ key: keys.get(laned)!.live, ip: '10.1.2.3' });
    const text = (await raw(laned.url, 'GET', '/metrics')).body as unknown as string;
    expect(text).toContain('# TYPE keyward_http_request_duration_seconds histogram');
    const series = (route: string) => {
      const labels = `method="POST",route="${route}"`;
      const buckets = [
        ...text.matchAll(
          new RegExp(
            `keyward_http_request_duration_seconds_bucket\\{le="([^"]+)",${labels.replace(/[/.]/g, '\\$&')}\\} (\\d+)`,
            'g',
          ),
        ),
      ].map((match) => ({ le: match[1]!, count: Number(match[2]) }));
      const value = (suffix: string) =>
        Number(
          new RegExp(
            `keyward_http_request_duration_seconds_${suffix}\\{${labels.replace(/[/.]/g, '\\$&')}\\} (\\S+)`,
          ).exec(text)?.[1],
        );
      return { buckets, sum: value('sum'), count: value('count') };
    };
    const verify = series('/v1/verify');
    expect(verify.buckets.map((bucket) => bucket.le)).toEqual([
      '0.0005',
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '1',
      '+Inf',
    ]);
    for (let i = 1; i < verify.buckets.length; i += 1)
      expect(verify.buckets[i]!.count).toBeGreaterThanOrEqual(verify.buckets[i - 1]!.count);
    expect(verify.buckets.at(-1)!.count).toBe(verify.count);
    expect(verify.count).toBeGreaterThan(0);
    expect(verify.sum).toBeGreaterThan(0);
    expect(verify.sum).toBeLessThan(verify.count);
  });

  it('resolves the caller’s address through trusted proxies as fastify does', async () => {
    const pair = await Promise.all([
      startTestServer({ trustedProxies: '127.0.0.1/32' }),
      startTestServer({ trustedProxies: '127.0.0.1/32' }),
    ]);
    try {
      const answers = await Promise.all(
        pair.map(async (t, index) => {
          // A root key that works only from the end client's network, behind the trusted proxy.
          const behind = await t.client.rootKeys.create({
            name: 'edge',
            scopes: ['verify'],
            ipAllowlist: ['203.0.113.0/24'],
          });
          const key = await t.client.keys.create({ name: 'k', scopes: ['contacts:read'] });
          const send = (forwardedFor?: string) =>
            post(t.url, index === 0 ? 'length' : 'chunked', {
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${behind.key}`,
                ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
              },
              body: JSON.stringify({ key: key.key }),
            });
          const direct = await send();
          const forwarded = await send('198.51.100.1, 203.0.113.9');
          const spoofed = await send('203.0.113.9, 198.51.100.1');
          return [direct.status, forwarded.status, (forwarded.body as { code?: string }).code, spoofed.status];
        }),
      );
      expect(answers[0]).toEqual([403, 200, 'VALID', 403]);
      expect(answers[1]).toEqual(answers[0]);
    } finally {
      await Promise.all(pair.map((t) => t.close()));
    }
  });

  it('records the lane’s verifications in the call log with the caller’s address', async () => {
    const key = await laned.client.keys.create({ name: 'logged', scopes: ['contacts:read'] });
    await laned.client.verify({ key: key.key, ip: '203.0.113.7', scopes: ['contacts:read'] });
    let calls: Array<{ ip: string | null; code: string }> = [];
    for (let attempt = 0; attempt < 100 && calls.length === 0; attempt += 1) {
      calls = [];
      for await (const call of laned.client.calls.list({ keyId: key.id })) calls.push(call);
      if (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(calls).toEqual([expect.objectContaining({ ip: '203.0.113.7', code: 'VALID' })]);
  });
});
