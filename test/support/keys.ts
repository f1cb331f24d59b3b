/**
 * The key with its last checksum character changed to another: a typo the checksum always catches.
 * Writing a fixed character instead leaves the key valid whenever it already ends with that one.
 */
export function withWrongChecksum(key: string): string {
  return `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
}
