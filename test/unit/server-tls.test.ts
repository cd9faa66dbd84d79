import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { connect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSelfSigned } from '../../src/server/self-signed.js';
import { loadTlsFiles, type TlsPair } from '../../src/server/tls.js';
import { eventually, scriptedEvaluator, startHarness, type Harness } from './server-support.js';

/** Opens a fresh TLS connection (no session reuse) and reports what was negotiated. */
function handshake(port: number, options: ConnectionOptions): Promise<{ protocol: string | null; subject: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => {
      const result = { protocol: socket.getProtocol(), subject: socket.getPeerX509Certificate()?.subject ?? '' };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

describe('webhook TLS', () => {
  let dir: string;
  let first: TlsPair;
  let second: TlsPair;
  let harness: Harness;
  const files = () => ({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sigward-tls-'));
    first = await generateSelfSigned('sigward-first');
    second = await generateSelfSigned('sigward-second');
    writeFileSync(files().certFile, first.cert);
    writeFileSync(files().keyFile, first.key);
    harness = await startHarness(scriptedEvaluator(), { tls: files(), tlsReloadIntervalMs: 50, metricsPort: null });
  });

  afterAll(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when a client offers only TLS 1.1', () => {
    it('refuses the handshake, while TLS 1.2 succeeds', async () => {
      const port = harness.server.port;
      // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
      const old = handshake(port, { ca: first.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      await expect(old).rejects.toMatchObject({ code: expect.stringMatching(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS/) });
      expect(await handshake(port, { ca: first.cert, maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2' });
    });
  });

  describe('when the certificate files are rotated', () => {
    it('keeps serving the old pair while the key does not match, then serves the new one', async () => {
      const port = harness.server.port;
      const ca = [first.cert, second.cert];
      expect((await handshake(port, { ca })).subject).toBe('CN=sigward-first');

      writeFileSync(files().certFile, second.cert); // half-way: new certificate, old key
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await handshake(port, { ca })).subject).toBe('CN=sigward-first');
      expect(harness.logs.some((l) => l.msg === 'TLS files changed but cannot be used yet; keeping the current pair')).toBe(true);

      writeFileSync(files().keyFile, second.key);
      await eventually(async () => (await handshake(port, { ca })).subject === 'CN=sigward-second');
      // A client trusting only the new certificate now verifies the server.
      expect(await handshake(port, { ca: second.cert })).toMatchObject({ subject: 'CN=sigward-second' });
    });
  });
});

describe('loadTlsFiles', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigward-tls-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when the key belongs to another certificate', () => {
    it('rejects with CONFIG_INVALID', async () => {
      const a = await generateSelfSigned('a');
      const b = await generateSelfSigned('b');
      writeFileSync(join(dir, 'a.crt'), a.cert);
      writeFileSync(join(dir, 'b.key'), b.key);
      await expect(loadTlsFiles({ certFile: join(dir, 'a.crt'), keyFile: join(dir, 'b.key') })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    });
  });

  describe('when a file is missing', () => {
    it('rejects with FILE_UNREADABLE naming it', async () => {
      const missing = join(dir, 'missing.crt');
      await expect(loadTlsFiles({ certFile: missing, keyFile: missing })).rejects.toMatchObject({
        code: 'FILE_UNREADABLE',
        message: expect.stringContaining(missing),
      });
    });
  });
});

describe('webhook without certificate files', () => {
  it('serves a self-signed P-256 certificate for localhost and 127.0.0.1, and says so', async () => {
    const harness = await startHarness(scriptedEvaluator(), { metricsPort: null });
    try {
      expect(harness.server.selfSigned).toBe(true);
      const certificate = new X509Certificate(harness.server.certificate);
      expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(certificate.checkHost('localhost')).toBe('localhost');
      expect(certificate.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
      expect(certificate.verify(certificate.publicKey)).toBe(true);
      expect(harness.logs.some((l) => l.level === 'warn' && String(l.msg).includes('self-signed'))).toBe(true);
      expect((await harness.get('/healthz')).status).toBe(200);
    } finally {
      await harness.close();
    }
  });
});
