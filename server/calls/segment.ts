import type { VerifyCode } from '../../schema';
import { ByteReader, ByteWriter, PRUNED_FLAG, referenceFlag } from './codec';

/*
 * A call-log segment in memory and as stored. Verifications of one workspace are added as they
 * happen to the segment being filled: times and latencies go into typed arrays, and every string
 * (key id, key start, IP, method, path, code) and scope list into the segment's dictionary, by
 * index. A busy gateway repeats the same few values, so recording a call keeps no object and no
 * string of the request alive until the flush: holding ~1,000 call objects per flush interval
 * made the garbage collector copy and promote them, which cost more CPU than the verification
 * itself (docs/benchmarks.md). The stored text is as compact: the dictionary once, then a few
 * bytes per call.
 *
 * Stored text, version 3:  {"v":3,"base":<ms>,"dict":[null, …],"data":"<base64>"}
 * dict holds every string and scope list once; entry 0 is null. data is the calls in order, each
 * as bytes (written and read by server/calls/codec.ts): a flags byte, then unsigned LEB128
 * varints. Flag bit 7 marks a pruned call, which keeps its place (so the ids of the other calls
 * do not change) and has nothing after its flags.
 * Otherwise: the time in ms after the previous call's (the first call's after base), zigzag
 * encoded as calls may be recorded slightly out of order; the latency in whole µs; then, for each
 * of the seven references (key id, key start, IP, scopes, method, path, code) whose flag bit
 * (bits 0 to 6) is set, its dict index; a reference whose bit is clear repeats the previous
 * call's (0, null, before the first call). A gateway's calls repeat most values from one call to
 * the next, so a call takes 3 to 10 bytes, and encoding is a few integer writes per call.
 * Version 2 wrote each call as a JSON array of numbers: building that text cost the main thread
 * ~0.2 µs per call and Postgres's compression of it ~0.5 µs per call (docs/benchmarks.md).
 * Migration 0005 rewrote the segments stored in older versions (1 and 2) as version 3, the only
 * one read.
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

/** A call as read back from a segment. */
export interface StoredCall {
  /** Epoch milliseconds. */
  at: number;
  keyId: string | null;
  keyStart: string | null;
  ip: string | null;
  scopes: string[];
  method: string | null;
  path: string | null;
  code: VerifyCode;
  latencyMs: number;
}

/*
 * A call's dictionary references, by their place in a stored call: flag bit `ref` and the order
 * of the indexes written, and a call's slots in the builder's reference array.
 */
const KEY_ID = 0;
const KEY_START = 1;
const IP = 2;
const SCOPES = 3;
const METHOD = 4;
const PATH = 5;
const CODE = 6;
/** Dictionary references per call. */
const REFS = 7;
const FIRST_CAPACITY = 64;
/** Bytes per call in a segment's buffer: its time (float64), latency (uint32) and references (uint16: a segment's dictionary holds at most 7 × 1,000 + 1 values). */
const ROW_BYTES = 8 + 4 + REFS * 2;
const FULL_BUFFER_BYTES = SEGMENT_MAX_ROWS * ROW_BYTES;
/** Full-size buffers of segments already written, for the next ones: a new buffer per segment (and one per growth step) kept V8's helper threads busy sweeping them. */
const spareBuffers: ArrayBuffer[] = [];
const SPARE_BUFFERS = 8;
/** Marks a pruned call in `at`: add() never stores NaN (a time that is not a number becomes now). */
const PRUNED = Number.NaN;
/** The largest latency a segment holds, in µs (over an hour). */
const MAX_LATENCY_MICROS = 0xffffffff;
/** The latest time a call may have, in ms either side of 1970 (about 70,000 years). */
const MAX_TIME = 2 ** 51;
/** The most bytes a stored call can take: flags, a zigzagged time delta up to 2^53 (8 bytes), a 32-bit latency (5) and seven references (at most 5 each). */
const MAX_CALL_BYTES = 1 + 8 + 5 + REFS * 5;
/** One writer for every encode (they are synchronous), grown when needed: a new buffer per segment made work for the garbage collector. */
const segmentWriter = new ByteWriter(SEGMENT_MAX_ROWS * MAX_CALL_BYTES);

/** The segment being filled for one workspace. */
export class SegmentBuilder {
  readonly workspaceId: string;
  length = 0;
  /** The calls' times, latencies and references, as views of one buffer (see #layout). */
  #buffer!: ArrayBuffer;
  #at!: Float64Array;
  #latencyMicros!: Uint32Array;
  #refs!: Uint16Array;
  #released = false;
  /** Entry 0 is null. */
  #values: (string | readonly string[] | null)[] = [null];
  #strings = new Map<string, number>();
  /** Scope lists by their scopes joined with a space, which no scope contains. */
  #scopeLists = new Map<string, number>();
  #keyIds = new Set<string>();
  #codes = new Set<string>();
  #live = 0;
  /**
   * Per reference, the value the previous call had and its index. A gateway's calls repeat most
   * values from one call to the next, and comparing with the value just used touches memory that
   * is still in the CPU's cache, where a dictionary lookup hashes the request's new string and
   * probes a table. The values held are the dictionary's own, never a request's.
   */
  readonly #previousValues: (string | readonly string[] | null)[] = new Array(REFS).fill(null);
  readonly #previousRefs = new Uint32Array(REFS);

  constructor(workspaceId: string) {
    this.workspaceId = workspaceId;
    this.#layout(new ArrayBuffer(FIRST_CAPACITY * ROW_BYTES), FIRST_CAPACITY);
  }

  /**
   * Gives the segment's buffer back once the segment has been encoded and written: the next full
   * segment reuses it. The builder must not be used afterwards.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#buffer.byteLength === FULL_BUFFER_BYTES && spareBuffers.length < SPARE_BUFFERS)
      spareBuffers.push(this.#buffer);
  }

  /** True once the segment holds SEGMENT_MAX_ROWS calls. */
  get full(): boolean {
    return this.length >= SEGMENT_MAX_ROWS;
  }

  /** Adds one call (the segment must not be full). */
  add(call: CallRecord): void {
    const index = this.#reserve();
    // A verification always has a time: one that is not a number, or not a date (bounded so a delta
    // between two calls stays an exact integer), becomes now. A latency of 0 is honest for a missing one.
    this.#at[index] = Number.isFinite(call.at) && Math.abs(call.at) <= MAX_TIME ? call.at : Date.now();
    this.#latencyMicros[index] = Number.isFinite(call.latencyMs)
      ? Math.min(Math.max(Math.round(call.latencyMs * 1000), 0), MAX_LATENCY_MICROS)
      : 0;
    const refs = this.#refs;
    const base = index * REFS;
    // A key id or code the previous call had is in the set already.
    if (call.keyId !== null && call.keyId !== this.#previousValues[KEY_ID]) this.#keyIds.add(call.keyId);
    if (call.code !== this.#previousValues[CODE]) this.#codes.add(call.code);
    refs[base + KEY_ID] = this.#column(KEY_ID, call.keyId);
    refs[base + KEY_START] = this.#column(KEY_START, call.keyStart);
    refs[base + IP] = this.#column(IP, call.ip);
    refs[base + SCOPES] = this.#scopesColumn(call.scopes);
    refs[base + METHOD] = this.#column(METHOD, call.method);
    refs[base + PATH] = this.#column(PATH, call.path);
    refs[base + CODE] = this.#column(CODE, call.code);
    this.#live += 1;
  }

  /** The dictionary index of a string in reference column `column` (KEY_ID … CODE), the previous call's when it is the same. */
  #column(column: number, value: string | null): number {
    if (value === this.#previousValues[column]) return this.#previousRefs[column]!;
    const ref = this.#string(value);
    this.#previousValues[column] = this.#values[ref] ?? null;
    this.#previousRefs[column] = ref;
    return ref;
  }

  /** The dictionary index of a scope list, the previous call's when it has the same scopes (none or one compared here). */
  #scopesColumn(scopes: readonly string[]): number {
    const previous = this.#previousValues[SCOPES] as readonly string[] | null;
    if (
      previous !== null &&
      previous.length === scopes.length &&
      (scopes.length === 0 || (scopes.length === 1 && scopes[0] === previous[0]))
    ) {
      return this.#previousRefs[SCOPES]!;
    }
    const ref = this.#scopeList(scopes);
    this.#previousValues[SCOPES] = this.#values[ref] ?? null;
    this.#previousRefs[SCOPES] = ref;
    return ref;
  }

  /** Adds a pruned call's place (rewriting a segment that retention cut into). */
  addPruned(): void {
    this.#at[this.#reserve()] = PRUNED;
  }

  /** What the segment's row in call_segments holds; null when every call in it was pruned. */
  encode(): { firstAt: Date; lastAt: Date; rowCount: number; keyIds: string[]; codes: string[]; rows: string } | null {
    if (this.#released) throw new Error('call-log segment used after release');
    if (this.#live === 0) return null;
    let firstAt = Infinity;
    let lastAt = -Infinity;
    for (let index = 0; index < this.length; index += 1) {
      const at = this.#at[index]!;
      if (Number.isNaN(at)) continue;
      if (at < firstAt) firstAt = at;
      if (at > lastAt) lastAt = at;
    }
    const base = Math.round(firstAt);
    const out = segmentWriter;
    out.start(this.length * MAX_CALL_BYTES);
    const refs = this.#refs;
    const previous = new Uint32Array(REFS);
    let previousAt = base;
    for (let index = 0; index < this.length; index += 1) {
      const at = this.#at[index]!;
      if (Number.isNaN(at)) {
        out.byte(PRUNED_FLAG);
        continue;
      }
      const offset = index * REFS;
      let flags = 0;
      for (let ref = 0; ref < REFS; ref += 1) if (refs[offset + ref] !== previous[ref]) flags |= referenceFlag(ref);
      out.byte(flags);
      const rounded = Math.round(at);
      out.zigzag(rounded - previousAt);
      previousAt = rounded;
      out.varint(this.#latencyMicros[index]!);
      for (let ref = 0; ref < REFS; ref += 1) {
        if ((flags & referenceFlag(ref)) === 0) continue;
        previous[ref] = refs[offset + ref]!;
        out.varint(previous[ref]!);
      }
    }
    return {
      firstAt: new Date(firstAt),
      lastAt: new Date(lastAt),
      rowCount: this.#live,
      keyIds: [...this.#keyIds],
      codes: [...this.#codes],
      rows: `{"v":3,"base":${base},"dict":${JSON.stringify(this.#values)},"data":"${out.base64()}"}`,
    };
  }

  #reserve(): number {
    if (this.#released) throw new Error('call-log segment used after release');
    const index = this.length;
    if (index === this.#at.length) {
      // Past its first calls, a segment is a busy workspace's: it takes a full-size buffer at once.
      const [at, latencyMicros, refs] = [this.#at, this.#latencyMicros, this.#refs];
      this.#layout(spareBuffers.pop() ?? new ArrayBuffer(FULL_BUFFER_BYTES), SEGMENT_MAX_ROWS);
      this.#at.set(at);
      this.#latencyMicros.set(latencyMicros);
      this.#refs.set(refs);
    }
    this.length = index + 1;
    return index;
  }

  /** Lays the three arrays out in `buffer`, for `capacity` calls: times first, as a Float64Array must start at a multiple of 8. */
  #layout(buffer: ArrayBuffer, capacity: number): void {
    this.#buffer = buffer;
    this.#at = new Float64Array(buffer, 0, capacity);
    this.#latencyMicros = new Uint32Array(buffer, capacity * 8, capacity);
    this.#refs = new Uint16Array(buffer, capacity * 12, capacity * REFS);
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
  if (segment === undefined) {
    segment = new SegmentBuilder(call.workspaceId);
    open.set(call.workspaceId, segment);
  }
  segment.add(call);
  if (!segment.full) return null;
  open.delete(call.workspaceId);
  return segment;
}

/** A stored segment as JSON (see the top of this file). */
interface StoredSegment {
  v: number;
  base: number;
  dict: (string | string[] | null)[];
  data: string;
}

/** The calls of a stored segment, in order; a pruned call is null. */
export function decodeSegment(text: string): (StoredCall | null)[] {
  const stored = JSON.parse(text) as StoredSegment;
  if (stored.v !== 3) throw new Error(`call-log segment of unknown version ${JSON.stringify(stored.v)}`);
  return decodeCalls(stored.base, stored.dict, new ByteReader(stored.data));
}

/** Reads version 3's call bytes (see the top of this file). */
function decodeCalls(base: number, dict: (string | string[] | null)[], input: ByteReader): (StoredCall | null)[] {
  const calls: (StoredCall | null)[] = [];
  // A reference holds the previous call's value until its flag says otherwise (entry 0 before the
  // first call); each index is checked as it is read.
  if (dict.length === 0) throw new Error('call-log segment refers past its dictionary');
  const values = new Array<string | string[] | null>(REFS).fill(dict[0]!);
  let at = base;
  while (!input.done) {
    const flags = input.byte();
    if (flags & PRUNED_FLAG) {
      calls.push(null);
      continue;
    }
    at += input.zigzag();
    const latencyMicros = input.varint();
    for (let ref = 0; ref < REFS; ref += 1) {
      if ((flags & referenceFlag(ref)) === 0) continue;
      const index = input.varint();
      if (index >= dict.length) throw new Error('call-log segment refers past its dictionary');
      values[ref] = dict[index]!;
    }
    calls.push({
      at,
      keyId: values[KEY_ID] as string | null,
      keyStart: values[KEY_START] as string | null,
      ip: values[IP] as string | null,
      scopes: values[SCOPES] as string[],
      method: values[METHOD] as string | null,
      path: values[PATH] as string | null,
      code: values[CODE] as VerifyCode,
      latencyMs: latencyMicros / 1000,
    });
  }
  return calls;
}

/** The segment a stored one becomes once `keep` has dropped some of its calls. */
export function rebuildSegment(
  workspaceId: string,
  calls: readonly (StoredCall | null)[],
  keep: (call: StoredCall) => boolean,
): SegmentBuilder {
  const builder = new SegmentBuilder(workspaceId);
  for (const call of calls) {
    if (call === null || !keep(call)) builder.addPruned();
    else builder.add({ workspaceId, ...call });
  }
  return builder;
}
