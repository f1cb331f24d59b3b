import { ExtData, encode } from '@msgpack/msgpack';
import { DynamicValue, decodeValue, encodeValue, fromStateJson, UNKNOWN } from '../../provider/terraform/cty';

/* Terraform values as the plugin protocol carries them: cty's msgpack encoding. */
describe('cty msgpack values', () => {
  const objectType = [
    'object',
    {
      name: 'string',
      scopes: ['list', 'string'],
      limit: ['object', { limit: 'number', window_seconds: 'number' }],
      meta: 'dynamic',
      on: 'bool',
    },
  ] as never;

  it('round-trips objects, lists, numbers, bools, nulls and unknowns', () => {
    const value = {
      name: 'crm',
      scopes: ['a:read', UNKNOWN],
      limit: { limit: 10, window_seconds: 1.5 },
      meta: null,
      on: true,
    };
    expect(decodeValue(encodeValue(value as never, objectType), objectType)).toEqual(value);
  });

  it('reads any msgpack extension as unknown (refined unknowns too), and writes cty unknown as ext 0', () => {
    expect(decodeValue(encode(new ExtData(12, new Uint8Array([1, 2]))), 'string')).toBe(UNKNOWN);
    expect(Buffer.from(encodeValue(UNKNOWN, 'string'))).toEqual(Buffer.from([0xd4, 0, 0]));
  });

  it('carries a dynamic value as a [type JSON, value] pair, its type given as bytes or as a string', () => {
    const metadata = new DynamicValue(['object', { team: 'string', tier: 'number' }], { team: 'crm', tier: 2 });
    const wire = encodeValue(metadata, 'dynamic');
    expect(decodeValue(wire, 'dynamic')).toEqual(metadata);
    expect(decodeValue(encode(['"string"', 'hello']), 'dynamic')).toEqual(new DynamicValue('string', 'hello'));
    // A plain JSON value gets the type Terraform gives the same HCL literal.
    expect(decodeValue(encodeValue({ list: [1, 'a'] } as never, 'dynamic'), 'dynamic')).toEqual(
      new DynamicValue(['object', { list: ['tuple', ['number', 'string']] }] as never, { list: [1, 'a'] }),
    );
  });

  it('fills attributes missing from an object with null, and reads numbers sent as strings', () => {
    expect(decodeValue(encode({ name: 'x', limit: { limit: '12', window_seconds: 60 } }), objectType)).toEqual({
      name: 'x',
      scopes: null,
      limit: { limit: 12, window_seconds: 60 },
      meta: null,
      on: null,
    });
  });

  it('reads JSON state, where a dynamic attribute is stored as {value, type}', () => {
    const state = {
      name: 'crm',
      scopes: ['a:read'],
      limit: null,
      meta: { value: { team: 'crm' }, type: ['object', { team: 'string' }] },
      on: false,
    };
    expect(fromStateJson(state, objectType)).toEqual({
      ...state,
      meta: new DynamicValue(['object', { team: 'string' }], { team: 'crm' }),
    });
  });

  it('refuses a value nested deeper than it will walk, with a message, instead of overflowing the stack', () => {
    // Built as text and bytes: our own encoders would refuse (or overflow on) such depth.
    const levels = 3000;
    const type = new TextEncoder().encode(`${'["tuple",['.repeat(levels)}"number"${']]'.repeat(levels)}`);
    // A 2-array of [bin 16 type, the value as `levels` one-element arrays around 1].
    const wire = Buffer.concat([
      Buffer.from([0x92, 0xc5, type.length >> 8, type.length & 0xff]),
      type,
      Buffer.alloc(levels, 0x91),
      Buffer.from([0x01]),
    ]);
    const value = JSON.parse(`${'['.repeat(levels)}1${']'.repeat(levels)}`);
    expect(() => decodeValue(wire, 'dynamic')).toThrow(/nests more than 64 levels/);
    expect(() => fromStateJson({ value, type: JSON.parse(new TextDecoder().decode(type)) }, 'dynamic')).toThrow(
      /nests more than 64 levels/,
    );
  });
});
