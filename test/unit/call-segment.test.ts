import fc from 'fast-check';
import {
  type CallRecord,
  decodeSegment,
  rebuildSegment,
  SEGMENT_MAX_ROWS,
  SegmentBuilder,
  type StoredCall,
} from '../../server/calls/segment';

/*
 * The call log's storage format: what a gateway's verifications become in a segment, and what
 * reading it back gives.
 */
const call = (overrides: Partial<CallRecord> = {}): CallRecord => ({
  workspaceId: 'ws_1',
  at: 1_700_000_000_000,
  keyId: 'key_a',
  keyStart: 'kw_live_abcd',
  ip: '203.0.113.7',
  scopes: ['contacts:read'],
  method: 'GET',
  path: '/contacts',
  code: 'VALID',
  latencyMs: 0.125,
  ...overrides,
});
const stored = ({ workspaceId: _workspace, ...c }: CallRecord): StoredCall => ({ ...c, scopes: [...c.scopes] });

describe('call-log segments', () => {
  it('reads back every call as it was recorded, in order, with nulls and odd strings intact', () => {
    const calls = [
      call(),
      call({
        at: 1_700_000_000_500,
        ip: null,
        scopes: [],
        method: null,
        path: null,
        code: 'MALFORMED',
        keyId: null,
        keyStart: null,
      }),
      call({
        at: 1_699_999_999_000,
        scopes: ['contacts:read', 'email:send'],
        path: '/a "quoted" \\ path\n\u2028',
        latencyMs: 12,
      }),
      call({ ip: '2001:db8::1', keyId: 'key_b', code: 'INSUFFICIENT_SCOPE', latencyMs: 0 }),
      call({ path: 'null', latencyMs: 3.001 }),
    ];
    const builder = new SegmentBuilder('ws_1');
    for (const c of calls) builder.add(c);
    const encoded = builder.encode()!;
    expect(decodeSegment(encoded.rows)).toEqual(calls.map(stored));
    expect(encoded.rowCount).toBe(5);
    expect(encoded.firstAt.getTime()).toBe(1_699_999_999_000);
    expect(encoded.lastAt.getTime()).toBe(1_700_000_000_500);
    expect(encoded.keyIds.sort()).toEqual(['key_a', 'key_b']);
    expect(encoded.codes.sort()).toEqual(['INSUFFICIENT_SCOPE', 'MALFORMED', 'VALID']);
  });

  it('stores a repeated value once, so a busy gateway costs a few bytes per call', () => {
    const builder = new SegmentBuilder('ws_1');
    for (let i = 0; i < SEGMENT_MAX_ROWS; i += 1) builder.add(call({ at: 1_700_000_000_000 + i }));
    expect(builder.full).toBe(true);
    const text = builder.encode()!.rows;
    expect(text.split('/contacts')).toHaveLength(2);
    expect(text.length / SEGMENT_MAX_ROWS).toBeLessThan(6);
    expect(decodeSegment(text)).toHaveLength(SEGMENT_MAX_ROWS);
  });

  it('keeps a pruned call’s place, so the calls kept keep their ids', () => {
    const calls = [call({ at: 1 }), call({ at: 2, ip: '198.51.100.1' }), call({ at: 3 })].map(stored);
    const rebuilt = rebuildSegment('ws_1', calls, (c) => c.at !== 2).encode()!;
    expect(decodeSegment(rebuilt.rows)).toEqual([calls[0], null, calls[2]]);
    expect(rebuilt.rowCount).toBe(2);
    // The pruned call's values go with it: a search for its IP no longer matches the segment.
    expect(rebuilt.rows).not.toContain('198.51.100.1');
    expect(rebuildSegment('ws_1', calls, () => false).encode()).toBeNull();
  });

  it('reads back any mix of calls and pruned places: many distinct values, times out of order, far apart', () => {
    const text = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 12 }),
      fc.integer({ min: 0, max: 400 }).map((n) => `v${n}`),
    );
    const recorded = fc.record({
      at: fc.oneof(
        fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }),
        fc.integer({ min: -(2 ** 51), max: 2 ** 51 }),
      ),
      keyId: text,
      keyStart: text,
      ip: text,
      scopes: fc.array(
        fc.integer({ min: 0, max: 300 }).map((n) => `s${n}:read`),
        { maxLength: 3 },
      ),
      method: text,
      path: text,
      code: fc.constantFrom('VALID', 'NOT_FOUND', 'RATE_LIMITED'),
      latencyMicros: fc.integer({ min: 0, max: 0xffffffff }),
      pruned: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(recorded, { minLength: 1, maxLength: 300 }), (calls) => {
        const builder = new SegmentBuilder('ws_1');
        const expected: (StoredCall | null)[] = [];
        for (const { pruned, latencyMicros, ...rest } of calls) {
          if (pruned) {
            builder.addPruned();
            expected.push(null);
            continue;
          }
          const record = call({ ...rest, code: rest.code as CallRecord['code'], latencyMs: latencyMicros / 1000 });
          builder.add(record);
          expected.push(stored(record));
        }
        const encoded = builder.encode();
        if (expected.every((row) => row === null)) expect(encoded).toBeNull();
        else expect(decodeSegment(encoded!.rows)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a damaged segment with an error instead of inventing calls', () => {
    const builder = new SegmentBuilder('ws_1');
    builder.add(call());
    const segment = JSON.parse(builder.encode()!.rows) as { data: string; dict: unknown[] };
    const bytes = Buffer.from(segment.data, 'base64');
    const cut = { ...segment, data: bytes.subarray(0, bytes.length - 1).toString('base64') };
    expect(() => decodeSegment(JSON.stringify(cut))).toThrow(/ends inside a call/);
    const shortDictionary = { ...segment, dict: [null] };
    expect(() => decodeSegment(JSON.stringify(shortDictionary))).toThrow(/past its dictionary/);
    // Older versions were rewritten by migration 0005 (test/integration/migrations.test.ts).
    expect(() => decodeSegment(JSON.stringify({ ...segment, v: 2 }))).toThrow(/unknown version 2/);
    expect(() => decodeSegment(JSON.stringify([null]))).toThrow(/unknown version/);
  });

  it('keeps latencies to the microsecond', () => {
    const builder = new SegmentBuilder('ws_1');
    for (const latencyMs of [0, 0.001, 0.0004, 0.0006, 1.5, 250.125]) builder.add(call({ latencyMs }));
    expect(decodeSegment(builder.encode()!.rows).map((c) => c!.latencyMs)).toEqual([0, 0.001, 0, 0.001, 1.5, 250.125]);
  });

  it('writes a call with a non-finite latency as valid JSON', () => {
    const builder = new SegmentBuilder('ws_1');
    builder.add(call({ latencyMs: Number.NaN }));
    expect(decodeSegment(builder.encode()!.rows)[0]!.latencyMs).toBe(0);
  });

  it("reuses a written segment's buffer without carrying anything of it over, and refuses a released segment", () => {
    const first = new SegmentBuilder('ws_1');
    for (let i = 0; i < SEGMENT_MAX_ROWS; i += 1)
      first.add(call({ at: 1_700_000_000_000 + i, ip: `198.51.100.${i % 200}`, latencyMs: i }));
    expect(decodeSegment(first.encode()!.rows)).toHaveLength(SEGMENT_MAX_ROWS);
    first.release();
    expect(() => first.add(call())).toThrow(/after release/);
    expect(() => first.encode()).toThrow(/after release/);

    // The next full segment takes the spare buffer: pruned places and new values read back as written.
    const second = new SegmentBuilder('ws_2');
    const expected: (StoredCall | null)[] = [];
    for (let i = 0; i < SEGMENT_MAX_ROWS; i += 1) {
      if (i % 3 === 0) {
        second.addPruned();
        expected.push(null);
      } else {
        const record = call({
          workspaceId: 'ws_2',
          at: 1_700_000_500_000 + i,
          keyId: 'key_b',
          ip: null,
          scopes: [],
          latencyMs: 0.5,
        });
        second.add(record);
        expected.push(stored(record));
      }
    }
    const encoded = second.encode()!;
    expect(decodeSegment(encoded.rows)).toEqual(expected);
    expect(encoded.rows).not.toContain('198.51.100.');
    second.release();
  });
});
