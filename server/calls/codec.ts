/*
 * The bytes of a stored call-log segment (server/calls/segment.ts says what they mean): per call a
 * flags byte, then unsigned LEB128 varints, signed ones zigzag encoded, the whole as base64.
 * Integers only: writing a few of them per call is what keeps encoding cheap next to the verify
 * hot path (docs/benchmarks.md).
 */

/** Flag bit 7 of a stored call: pruned. Such a call has nothing after its flags byte. */
export const PRUNED_FLAG = 0x80;

/** The flag bit (bits 0 to 6) that says a stored call writes reference `ref`, not the previous call's. */
export function referenceFlag(ref: number): number {
  return 1 << ref;
}

/** Bytes and unsigned LEB128 varints into one reusable buffer, sized by the caller before each use. */
export class ByteWriter {
  #bytes: Buffer;
  #length = 0;

  /** A writer whose buffer holds `capacity` bytes to begin with. */
  constructor(capacity: number) {
    this.#bytes = Buffer.allocUnsafe(capacity);
  }

  /** Empties the writer and makes room for `capacity` bytes, growing its buffer only when it is too small. */
  start(capacity: number): void {
    if (this.#bytes.length < capacity) this.#bytes = Buffer.allocUnsafe(capacity);
    this.#length = 0;
  }

  /** Writes one byte. */
  byte(value: number): void {
    this.#bytes[this.#length++] = value;
  }

  /** Writes a non-negative integer up to 2^53; the common small ones without division. */
  varint(value: number): void {
    while (value >= 0x80) {
      this.#bytes[this.#length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.#bytes[this.#length++] = value;
  }

  /** Writes a signed integer, zigzag encoded (0, -1, 1, -2 … as 0, 1, 2, 3 …). */
  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** The bytes written since start(), as base64. */
  base64(): string {
    return this.#bytes.toString('base64', 0, this.#length);
  }
}

/** Reads what ByteWriter wrote; throws on data that ends inside a value. */
export class ByteReader {
  readonly #bytes: Buffer;
  #position = 0;

  /** A reader of `base64`'s bytes, from the first. */
  constructor(base64: string) {
    this.#bytes = Buffer.from(base64, 'base64');
  }

  /** True once every byte has been read. */
  get done(): boolean {
    return this.#position >= this.#bytes.length;
  }

  /** Reads one byte. */
  byte(): number {
    if (this.#position >= this.#bytes.length) throw new Error('call-log segment ends inside a call');
    return this.#bytes[this.#position++]!;
  }

  /** Reads a non-negative integer written by ByteWriter.varint. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
      if (scale >= 2 ** 56) throw new Error('call-log segment holds an oversized number');
    }
  }

  /** Reads a signed integer written by ByteWriter.zigzag. */
  zigzag(): number {
    const value = this.varint();
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }
}
