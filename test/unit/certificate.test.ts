import 'reflect-metadata';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { localhostCertificate } from '../../provider/terraform/certificate';

/*
 * The provider writes its go-plugin TLS certificate as DER by hand (provider/terraform/certificate.ts),
 * for start-up time. Parity: it must be the certificate @peculiar/x509 builds from the same
 * description, extension for extension, and one that OpenSSL (Node's X509Certificate) accepts.
 */

/** The same certificate, described to @peculiar/x509: the plain path. */
async function referenceCertificate(now: number): Promise<x509.X509Certificate> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: [{ CN: ['localhost'] }, { O: ['keyward'] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 30 * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
    ],
  });
}

const described = (certificate: x509.X509Certificate) => ({
  subject: certificate.subject,
  issuer: certificate.issuer,
  signatureAlgorithm: certificate.signatureAlgorithm,
  publicKeyAlgorithm: certificate.publicKey.algorithm,
  extensions: certificate.extensions.map((extension) => ({
    type: extension.type,
    critical: extension.critical,
    value: Buffer.from(extension.value).toString('hex'),
  })),
});

describe('the provider certificate written as DER', () => {
  it('is the certificate @peculiar/x509 builds, extension for extension', async () => {
    const now = Date.UTC(2026, 11, 2, 6, 0, 0);
    const ours = new x509.X509Certificate(localhostCertificate(now).der);
    const reference = await referenceCertificate(now);
    expect(described(ours)).toEqual(described(reference));
    expect(ours.notBefore).toEqual(reference.notBefore);
    expect(ours.notAfter).toEqual(reference.notAfter);
    expect(await ours.verify({ signatureOnly: true })).toBe(true);
  });

  it('is accepted by OpenSSL as a localhost CA whose key is the one returned', () => {
    const { certPem, keyPem, der } = localhostCertificate();
    const certificate = new X509Certificate(certPem);
    expect(certificate.raw).toEqual(der);
    expect(certificate.ca).toBe(true);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('has a fresh positive serial number and key every time, and dates past 2049 as GeneralizedTime', () => {
    const first = new X509Certificate(localhostCertificate().der);
    const second = new X509Certificate(localhostCertificate().der);
    expect(first.serialNumber).not.toBe(second.serialNumber);
    expect(first.publicKey.export({ type: 'spki', format: 'der' })).not.toEqual(
      second.publicKey.export({ type: 'spki', format: 'der' }),
    );
    const late = new X509Certificate(localhostCertificate(Date.UTC(2049, 11, 20)).der);
    expect(new Date(late.validTo).getUTCFullYear()).toBe(2050);
    expect(late.verify(late.publicKey)).toBe(true);
  });
});
