/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost, made
 * with openssl. The registry presents the server certificate; clients trust only the CA file,
 * so a test passes only when the client really verifies the chain (no "insecure" shortcut).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runChecked } from './process.js';
import { toolPath } from './tools.js';

export interface TestPki {
  /** PEM of the CA certificate: what clients must trust. */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The system CA bundle followed by the test CA, for tools that read SSL_CERT_FILE. */
  readonly bundleFile: string;
}

const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Makes a CA and a server certificate (P-256, valid two days) in `dir`. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const openssl = toolPath('openssl');
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'server.key');
  const csrFile = join(dir, 'server.csr');
  const certFile = join(dir, 'server.crt');
  const extFile = join(dir, 'server.ext');
  const opts = { timeoutMs: 20_000 };

  await runChecked(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=sigward test CA', '-keyout', caKey, '-out', caFile,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ], opts);
  await runChecked(openssl, [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=localhost', '-keyout', keyFile, '-out', csrFile,
  ], opts);
  writeFileSync(
    extFile,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await runChecked(openssl, [
    'x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile,
  ], opts);

  const bundleFile = join(dir, 'ca-bundle.crt');
  let system = '';
  try {
    system = readFileSync(SYSTEM_CA_BUNDLE, 'utf8');
  } catch {
    // no system store: the bundle holds the test CA alone
  }
  writeFileSync(bundleFile, `${system}\n${readFileSync(caFile, 'utf8')}`);
  return { caFile, certFile, keyFile, bundleFile };
}

export interface ClientCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Issues a client certificate (P-256, clientAuth, valid two days) from the CA of `pki` in `dir`. */
export async function issueClientCertificate(dir: string, pki: TestPki, name: string): Promise<ClientCertificate> {
  const openssl = toolPath('openssl');
  const caKey = join(dirname(pki.caFile), 'ca.key');
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  const opts = { timeoutMs: 20_000 };
  await runChecked(openssl, [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', csrFile,
  ], opts);
  writeFileSync(extFile, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth', ''].join('\n'));
  await runChecked(openssl, [
    'x509', '-req', '-in', csrFile, '-CA', pki.caFile, '-CAkey', caKey, '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile,
  ], opts);
  return { certFile, keyFile };
}
