import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { $ZodType } from 'zod/v4/core';
import * as schemas from '../../schema';
import { compileAcceptor } from '../../server/verify/fast/accept';

/*
 * The verify lane takes a body without running zod when compileAcceptor() says yes. That is safe
 * only if a yes always means zod accepts the body and returns it unchanged. Checked here on the
 * verify request (near-valid bodies with one field changed at a time, at every limit) and on every
 * schema the package exports (arbitrary JSON).
 */
// The key is a made-up string of the right shape (its checksum does not even pass), not a secret.
const validBody = {
  key: 'kw_live_2Xb7Qp9LmN4rT6vW8yZ1aC3dE5fG7hJ9kL2mN4pQ6rS8tU0',
  scopes: ['contacts:read'],
  ip: '10.1.2.3',
  method: 'GET',
  path: '/contacts',
};

function agreesWithZod(schema: $ZodType, accepts: (value: unknown) => boolean, value: unknown): boolean {
  if (!accepts(value)) return true;
  const result = (schema as unknown as { safeParse(value: unknown): { success: boolean; data?: unknown } }).safeParse(
    value,
  );
  return result.success && isDeepStrictEqual(result.data, value);
}

const astral = (count: number) => '𝒜'.repeat(count);
const around = (limit: number, unit = 'a') =>
  [limit - 1, limit, limit + 1].map((length) => unit.repeat(Math.max(0, length)));
const fieldValues: Record<string, unknown[]> = {
  key: [
    undefined,
    null,
    0,
    true,
    '',
    'x',
    ...around(512),
    astral(256),
    astral(257),
    astral(512),
    `${astral(256)}a`,
    ['kw_live_x'],
    { key: 'x' },
  ],
  scopes: [
    undefined,
    null,
    [],
    'contacts:read',
    ['contacts:*'],
    ['*'],
    ['*:read'],
    ['Contacts:read'],
    ['contacts:read@team/emea'],
    ['contacts:read@'],
    ['contacts:read', 'email:send'],
    [1],
    [null],
    [['contacts:read']],
    Array.from({ length: 50 }, () => 'a:b'),
    Array.from({ length: 51 }, () => 'a:b'),
    [`a:${'b'.repeat(63)}`],
    [`a:${'b'.repeat(64)}`],
    [`${'a'.repeat(64)}:${'b'.repeat(64)}@${'c'.repeat(64)}`],
  ],
  ip: [
    undefined,
    null,
    '',
    '10.1.2.3',
    '10.1.2.300',
    '010.1.2.3',
    '::1',
    '2001:db8::1',
    '::ffff:10.1.2.3',
    'fe80::1%eth0',
    '10.0.0.0/8',
    ' 10.1.2.3',
    'localhost',
    1,
    ...around(64, '1'),
  ],
  method: [undefined, null, '', 'G', 'GET', ...around(16, 'A'), astral(9), 7],
  path: [undefined, null, '', '/', '/contacts', ...around(2048, '/'), astral(1025), {}],
  request: [
    undefined,
    null,
    {},
    { method: 'GET', url: 'https://api.example.com/x', headers: {} },
    {
      method: 'GET',
      url: 'https://api.example.com/x',
      headers: { 'signature-input': 'sig1=()', signature: 'sig1=:AA==:' },
    },
  ],
  extra: [undefined, 1, 'x', null],
};

describe('the fast acceptor for zod schemas', () => {
  const accepts = compileAcceptor(schemas.VerifyRequestSchema);

  it('takes an ordinary verify request without zod', () => {
    expect(accepts(validBody)).toBe(true);
    expect(accepts({ key: validBody.key })).toBe(true);
    expect(accepts({ key: validBody.key, scopes: [] })).toBe(true);
  });

  it('says yes to a verify request only when zod accepts it unchanged, whatever one field holds', () => {
    let taken = 0;
    for (const [field, values] of Object.entries(fieldValues)) {
      for (const value of values) {
        const body: Record<string, unknown> = { ...validBody, [field]: value };
        if (value === undefined) delete body[field];
        for (const candidate of [body, { ...body, key: undefined }, JSON.parse(JSON.stringify(body)) as unknown]) {
          expect({ field, value, ok: agreesWithZod(schemas.VerifyRequestSchema, accepts, candidate) }).toEqual({
            field,
            value,
            ok: true,
          });
          if (accepts(candidate)) taken += 1;
        }
      }
    }
    expect(taken).toBeGreaterThan(20);
  });

  it('says yes only when zod agrees, for random bodies near the valid one', () => {
    const field = (name: string) => fc.constantFrom(...fieldValues[name]!);
    fc.assert(
      fc.property(
        field('key'),
        field('scopes'),
        field('ip'),
        field('method'),
        field('path'),
        field('request'),
        field('extra'),
        (key, scopes, ip, method, path, request, extra) => {
          const body = Object.fromEntries(
            Object.entries({ key, scopes, ip, method, path, request, extra }).filter(
              ([, value]) => value !== undefined,
            ),
          );
          expect(agreesWithZod(schemas.VerifyRequestSchema, accepts, body)).toBe(true);
          expect(agreesWithZod(schemas.VerifyRequestSchema, accepts, JSON.parse(JSON.stringify(body)))).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('says yes only when zod agrees, for every exported schema and arbitrary JSON', () => {
    const exported = Object.entries(schemas as Record<string, unknown>).filter(
      (entry): entry is [string, $ZodType] => typeof entry[1] === 'object' && entry[1] !== null && '_zod' in entry[1],
    );
    expect(exported.length).toBeGreaterThan(20);
    for (const [name, schema] of exported) {
      const schemaAccepts = compileAcceptor(schema);
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), fc.object()), (value) => {
          expect({ name, ok: agreesWithZod(schema, schemaAccepts, value) }).toEqual({ name, ok: true });
        }),
        { numRuns: 200 },
      );
    }
  });

  it("reads fields whose names need quoting in the generated code, and keeps zod's answer", () => {
    const { z } = require('zod') as typeof import('zod');
    const names = ["it's", 'a"b', 'back\\slash', 'line\u2028sep', '}; return true; //', ''];
    const schema = z.strictObject(Object.fromEntries(names.map((name) => [name, z.string().max(3).optional()])));
    const accepts = compileAcceptor(schema);
    const full = Object.fromEntries(names.map((name) => [name, 'abc']));
    expect(accepts(full)).toBe(true);
    expect(accepts({})).toBe(true);
    for (const name of names) {
      expect(accepts({ ...full, [name]: 'abcd' })).toBe(false);
      expect(accepts({ ...full, [name]: 7 })).toBe(false);
    }
    expect(accepts({ ...full, other: 'x' })).toBe(false);
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names, 'other'), fc.oneof(fc.string({ maxLength: 5 }), fc.integer())),
        (value) => {
          expect(agreesWithZod(schema, accepts, value)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never says yes to a value holding a key that secure-json-parse refuses, which the lane relies on', () => {
    const { z } = require('zod') as typeof import('zod');
    // As a body carries them: JSON.parse makes "__proto__" an own key.
    const fields = ['"__proto__":{"prototype":{"admin":"yes"}}', '"constructor":{"prototype":{"admin":"yes"}}'];
    const body = JSON.stringify(validBody).slice(0, -1);
    for (const field of fields) expect(accepts(JSON.parse(`${body},${field}}`))).toBe(false);
    // Even a schema that names such a key as a field of its own is never taken without zod.
    const inner = z.strictObject({ prototype: z.strictObject({ admin: z.string() }) }).optional();
    for (const [name, field] of [
      ['__proto__', fields[0]],
      ['constructor', fields[1]],
    ] as const) {
      const shaped = compileAcceptor(z.strictObject({ [name]: inner }));
      expect(shaped(JSON.parse(`{${field}}`))).toBe(false);
    }
  });
});
