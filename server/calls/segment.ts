import type { VerifyCode } from '../../schema';

/*
 * A call-log segment in memory and as stored. Verifications of one workspace are added as they
 * happen to the segment being filled: times and latencies go into typed arrays, and every string
 * (key id, key start, IP, method, path, code) and scope list into the segment's dictionary, by
 * index. A busy gateway repeats the same few values, so recording a call keeps no object and no
 * string of the request alive until the flush: holding ~1,000 call objects per flush interval
 * made the garbage collector copy and promote them, which cost more CPU than the verification
 * itself (docs/benchmarks.md). The stored text is as compact: the dictionary once, then rows of
 * small numbers.
 *
 * Stored text, version 2:  {"v":2,"base":<ms>,"dict":[null, …],"rows":[[dAt,key,start,ip,scopes,method,path,code,latencyµs] | null, …]}
 * dAt is milliseconds after base and the latency is in whole microseconds (integers are several
 * times cheaper to write than fractions); the other fields index dict, whose entry 0 is null. A null row
 * is a pruned call: it keeps its place, so the ids of the other calls do not change. Segments
 * written before version 2 are a plain JSON array of StoredCall rows; both are read.
 */

/** Calls per segment; a call's id is `segmentId * SEGMENT_MAX_ROWS + its index in the segment`. */
export const SEGMENT_MAX_ROWS = 1000;

/** One verification to log. */
export interface CallRecord {
  workspaceId: string;
  /** Epoch milliseconds. */
  at: number;
  keyId: string | null;
  keyStart: string | null;
  ip: string | null;
  scopes: readonly string[];
  method: string | null;
  path: string | null;
  code: VerifyCode;
  latencyMs: number;
}

/** A call as read back: [atMs, keyId, keyStart, ip, scopes, method, path, code, latencyMs]. */
export type StoredCall = [number, string | null, string | null, string | null, string[], string | null, string | null, string, number];

/** Dictionary references per call: key id, key start, IP, scopes, method, path, code. */
const REFS = 7;
const FIRST_CAPACITY = 64;
/** Marks a pruned call in `at`: no verification happens at time -1. */
const PRUNED = -1;
/** The largest latency a segment holds, in µs (over an hour). */
const MAX_LATENCY_MICROS = 0xffffffff;

/** The segment being filled for one workspace. */
export class SegmentBuilder {
  readonly workspaceId: string;
  length = 0;
  #at = new Float64Array(FIRST_CAPACITY);
  #latencyMicros = new Uint32Array(FIRST_CAPACITY);
  #refs = new Uint32Array(FIRST_CAPACITY * REFS);
  /** Entry 0 is null. */
  #values: (string | readonly string[] | null)[] = [null];
  #strings = new Map<string, number>();
  /** Scope lists by their scopes joined with a space, which no scope contains. */
  #scopeLists = new Map<string, number>();
  #keyIds = new Set<string>();
  #codes = new Set<string>();
  #live = 0;

  constructor(workspaceId: string) {
    this.workspaceId = workspaceId;
  }

  /** True once the segment holds SEGMENT_MAX_ROWS calls. */
  get full(): boolean {
    return this.length >= SEGMENT_MAX_ROWS;
  }

  /** Adds one call (the segment must not be full). */
  add(call: CallRecord): void {
    const index = this.#reserve();
    // Non-finite numbers would not be JSON; a verification always has a time, and a latency of 0 is honest for a missing one.
    this.#at[index] = Number.isFinite(call.at) ? call.at : Date.now();
    this.#latencyMicros[index] = Number.isFinite(call.latencyMs) ? Math.min(Math.max(Math.round(call.latencyMs * 1000), 0), MAX_LATENCY_MICROS) : 0;
    const refs = this.#refs;
    const base = index * REFS;
    refs[base] = this.#string(call.keyId);
    refs[base + 1] = this.#string(call.keyStart);
    refs[base + 2] = this.#string(call.ip);
    refs[base + 3] = this.#scopeList(call.scopes);
    refs[base + 4] = this.#string(call.method);
    refs[base + 5] = this.#string(call.path);
    refs[base + 6] = this.#string(call.code);
    if (call.keyId !== null) this.#keyIds.add(call.keyId);
    this.#codes.add(call.code);
    this.#live += 1;
  }

  /** Adds a pruned call's place (rewriting a segment that retention cut into). */
  addPruned(): void {
    this.#at[this.#reserve()] = PRUNED;
  }

  /** What the segment's row in call_segments holds; null when every call in it was pruned. */
  encode(): { firstAt: Date; lastAt: Date; rowCount: number; keyIds: string[]; codes: string[]; rows: string } | null {
    if (this.#live === 0) return null;
    let firstAt = Infinity;
    let lastAt = -Infinity;
    for (let index = 0; index < this.length; index += 1) {
      const at = this.#at[index]!;
      if (at === PRUNED) continue;
      if (at < firstAt) firstAt = at;
      if (at > lastAt) lastAt = at;
    }
    // Every value below is a finite number, so it is written as JSON by String(); only the dictionary needs stringify.
    const rows: string[] = new Array<string>(this.length);
    const refs = this.#refs;
    for (let index = 0; index < this.length; index += 1) {
      const at = this.#at[index]!;
      if (at === PRUNED) {
        rows[index] = 'null';
        continue;
      }
      const base = index * REFS;
      // As a small integer, the offset is written by the integer path, not the floating-point one.
      const offset = at - firstAt <= 0x7fffffff ? (at - firstAt) | 0 : at - firstAt;
      rows[index] =
        `[${offset},${refs[base]},${refs[base + 1]},${refs[base + 2]},${refs[base + 3]},${refs[base + 4]},${refs[base + 5]},${refs[base + 6]},${this.#latencyMicros[index]}]`;
    }
    return {
      firstAt: new Date(firstAt),
      lastAt: new Date(lastAt),
      rowCount: this.#live,
      keyIds: [...this.#keyIds],
      codes: [...this.#codes],
      rows: `{"v":2,"base":${firstAt},"dict":${JSON.stringify(this.#values)},"rows":[${rows.join(',')}]}`,
    };
  }

  #reserve(): number {
    const index = this.length;
    if (index === this.#at.length) {
      const capacity = Math.min(index * 2, SEGMENT_MAX_ROWS);
      this.#at = grow(this.#at, new Float64Array(capacity));
      this.#latencyMicros = grow(this.#latencyMicros, new Uint32Array(capacity));
      this.#refs = grow(this.#refs, new Uint32Array(capacity * REFS));
    }
    this.length = index + 1;
    return index;
  }

  #string(value: string | null): number {
    if (value === null) return 0;
    let ref = this.#strings.get(value);
    if (ref === undefined) {
      ref = this.#values.push(value) - 1;
      this.#strings.set(value, ref);
    }
    return ref;
  }

  #scopeList(scopes: readonly string[]): number {
    // The common cases, none or one scope, look up without building a string.
    const name = scopes.length === 1 ? scopes[0]! : scopes.join(' ');
    let ref = this.#scopeLists.get(name);
    if (ref === undefined) {
      ref = this.#values.push([...scopes]) - 1;
      this.#scopeLists.set(name, ref);
    }
    return ref;
  }
}

/**
 * Adds a call to its workspace's open segment in `open`, starting one if needed. Returns the
 * segment when this call filled it, having taken it out of `open`; otherwise null.
 */
export function fillSegment(open: Map<string, SegmentBuilder>, call: CallRecord): SegmentBuilder | null {
  let segment = open.get(call.workspaceId);
  if (segment === undefined) open.set(call.workspaceId, (segment = new SegmentBuilder(call.workspaceId)));
  segment.add(call);
  if (!segment.full) return null;
  open.delete(call.workspaceId);
  return segment;
}

function grow<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The calls of a stored segment, in order; a pruned call is null. Reads both stored versions. */
export function decodeSegment(text: string): (StoredCall | null)[] {
  const stored = JSON.parse(text) as (StoredCall | null)[] | { v: 2; base: number; dict: (string | string[] | null)[]; rows: (number[] | null)[] };
  if (Array.isArray(stored)) return stored;
  const { base, dict, rows } = stored;
  return rows.map((row) =>
    row === null
      ? null
      : [
          base + row[0]!,
          dict[row[1]!] as string | null,
          dict[row[2]!] as string | null,
          dict[row[3]!] as string | null,
          dict[row[4]!] as string[],
          dict[row[5]!] as string | null,
          dict[row[6]!] as string | null,
          dict[row[7]!] as string,
          row[8]! / 1000,
        ],
  );
}

/** The segment a stored one becomes once `keep` has dropped some of its calls. */
export function rebuildSegment(workspaceId: string, calls: readonly (StoredCall | null)[], keep: (call: StoredCall) => boolean): SegmentBuilder {
  const builder = new SegmentBuilder(workspaceId);
  for (const call of calls) {
    if (call === null || !keep(call)) builder.addPruned();
    else {
      const [at, keyId, keyStart, ip, scopes, method, path, code, latencyMs] = call;
      builder.add({ workspaceId, at, keyId, keyStart, ip, scopes, method, path, code: code as VerifyCode, latencyMs });
    }
  }
  return builder;
}
