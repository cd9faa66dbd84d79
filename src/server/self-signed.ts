import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import type { TlsPair } from './tls.js';

const DAY_MS = 24 * 60 * 60 * 1000;


/**
 * A self-signed ECDSA P-256 certificate for `localhost`, `127.0.0.1` and `::1`, made at start
 * when no certificate files are given, so `sigward serve` runs locally without setup. The
 * webhook still speaks only TLS; a cluster must be given a real pair (the chart makes one).
 */
export async function generateSelfSigned(commonName = 'sigward', validDays = 365): Promise<TlsPair> {
  // @peculiar/x509's dependency injection needs the Reflect metadata API loaded first.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=${commonName}`,
      notBefore: new Date(now - 5 * 60 * 1000),
      notAfter: new Date(now + validDays * DAY_MS),
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
      ],
    },
    webcrypto,
  );
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' });
  return { cert: certificate.toString('pem'), key: typeof key === 'string' ? key : key.toString('utf8') };
}
