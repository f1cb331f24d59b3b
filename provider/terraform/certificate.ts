import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/*
 * The provider's TLS certificate for go-plugin's mutual TLS, written as DER directly. It is one
 * fixed shape (a self-signed ECDSA P-256 certificate for localhost that is also its own CA), and an
 * ASN.1 library took a quarter of the provider's start-up to load, on every start the engine makes.
 * test/unit/certificate.test.ts holds it to the same certificate @peculiar/x509 builds.
 */

/** DER length octets. */
function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const octets: number[] = [];
  for (let rest = size; rest > 0; rest >>= 8) octets.unshift(rest & 0xff);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** One DER element: tag, length, contents. */
function element(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...contents: Buffer[]) => element(0x30, ...contents);
const set = (...contents: Buffer[]) => element(0x31, ...contents);
const explicit = (tagNumber: number, ...contents: Buffer[]) => element(0xa0 | tagNumber, ...contents);
const octetString = (contents: Buffer) => element(0x04, contents);
const bitString = (contents: Buffer, unusedBits = 0) => element(0x03, Buffer.from([unusedBits]), contents);
const utf8String = (text: string) => element(0x0c, Buffer.from(text, 'utf8'));
const TRUE = element(0x01, Buffer.from([0xff]));

/** An OBJECT IDENTIFIER from its dotted form. */
function objectId(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const octets = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) base128.unshift((value & 0x7f) | 0x80);
    octets.push(...base128);
  }
  return element(0x06, Buffer.from(octets));
}

/** A non-negative INTEGER from big-endian bytes. */
function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const trimmed = bytes.subarray(start);
  return element(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 §4.1.2.5 requires. */
function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? element(0x17, Buffer.from(`${digits.slice(2)}Z`))
    : element(0x18, Buffer.from(`${digits}Z`));
}

const extension = (id: string, critical: boolean, value: Buffer) =>
  sequence(objectId(id), ...(critical ? [TRUE] : []), octetString(value));

const ECDSA_WITH_SHA256 = sequence(objectId('1.2.840.10045.4.3.2'));
const NAME = sequence(
  set(sequence(objectId('2.5.4.3'), utf8String('localhost'))),
  set(sequence(objectId('2.5.4.10'), utf8String('keyward'))),
);
const EXTENSIONS = explicit(
  3,
  sequence(
    // basicConstraints: a CA, since go-plugin pins this certificate as the root it trusts.
    extension('2.5.29.19', true, sequence(TRUE)),
    // keyUsage: digitalSignature, keyEncipherment, keyCertSign (bits 0, 2, 5; two unused bits).
    extension('2.5.29.15', true, bitString(Buffer.from([0xa4]), 2)),
    // extKeyUsage: serverAuth, clientAuth.
    extension('2.5.29.37', false, sequence(objectId('1.3.6.1.5.5.7.3.1'), objectId('1.3.6.1.5.5.7.3.2'))),
    // subjectAltName: DNS localhost, IP 127.0.0.1.
    extension(
      '2.5.29.17',
      false,
      sequence(element(0x82, Buffer.from('localhost')), element(0x87, Buffer.from([127, 0, 0, 1]))),
    ),
  ),
);

/** A fresh ECDSA P-256 certificate for localhost, valid as its own CA (go-plugin pins it as the root). */
export function localhostCertificate(now = Date.now()): { certPem: string; keyPem: string; der: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(serial),
    ECDSA_WITH_SHA256,
    NAME,
    sequence(time(new Date(now - 60_000)), time(new Date(now + 30 * 86_400_000))),
    NAME,
    publicKey.export({ type: 'spki', format: 'der' }),
    EXTENSIONS,
  );
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, privateKey)));
  const base64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n');
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    der,
  };
}
