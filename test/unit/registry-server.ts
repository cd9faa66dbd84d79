import { fileURLToPath } from 'node:url';
/**
 * Scripted loopback registries for the registry client's tests. They play what a real registry
 * cannot be made to do on demand: hang, trickle, lie about digests, loop on 401, redirect.
 * Everything listens on 127.0.0.1 with an ephemeral port.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Repository } from '../../src/reference/types.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface ScriptedServer {
  /** `127.0.0.1:<port>`, usable as a registry name. */
  readonly host: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest) => void;

const servers: ScriptedServer[] = [];
const clients: RegistryClient[] = [];

/** Starts a server; `tls` makes it HTTPS with that key and certificate. */
export async function serve(handler: Handler, tls?: { key: string; cert: string }): Promise<ScriptedServer> {
  const requests: SeenRequest[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(seen);
      handler(req, res, seen);
    });
  };
  const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const scripted: ScriptedServer = {
    host: `127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
  servers.push(scripted);
  return scripted;
}

/** A client that speaks plain HTTP to the given scripted hosts; closed by `cleanup`. */
export function clientFor(insecure: readonly string[], options: RegistryClientOptions = {}): RegistryClient {
  const client = new RegistryClient({ insecureRegistries: insecure, requestTimeoutMs: 2000, ...options });
  clients.push(client);
  return client;
}

/** Call from afterEach: closes every server and client the test started. */
export async function cleanup(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

export function repoAt(host: string, repository = 'acme/app'): Repository {
  return { registry: host, repository, name: `${host}/${repository}` };
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

/** A real artifact from the shared fixtures. */
export function fixture(relative: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, relative));
}

/** A cosign signature manifest and its simple-signing payload blob (cosign v3.0.4, real). */
export const SIGNATURE_MANIFEST = 'legacy/tobby-fetch-cosign-v3.0.4/signature-manifest.json';
export const SIGNATURE_PAYLOAD = 'legacy/tobby-fetch-cosign-v3.0.4/payload.json';
/** A referrers index served by a real registry for a cosign v3 bundle. */
export const REFERRERS_INDEX = 'bundles/tobby-fetch-cosign-v3.0.4-key/bundle-referrers-index.json';

/** A self-signed certificate for 127.0.0.1, made with openssl for this test run. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigward-registry-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return {
      key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `fn`, expecting it to throw; returns what it threw. */
export async function thrown(fn: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
