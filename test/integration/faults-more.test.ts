/**
 * More registry faults for `sigward serve`, each of which must end in a deny with a reason inside
 * the webhook deadline (--webhook-timeout 3, on the wall clock), after which the server is
 * healthy and still admits signed images (docs/design.md §3, §4: fail closed):
 * - a connection cut in the middle of a response (a TCP proxy in front of a real registry);
 * - a registry whose certificate is signed by a CA sigward was not given;
 * - a registry demanding Bearer tokens from a token endpoint that is down.
 * An unresolvable host is not exercised here: resolving one sends a DNS query to the machine's
 * nameserver, beyond loopback; the reference and registry unit tests cover that path.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { makeTempDir } from '../support/process.js';
import { startCraneRegistry, startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview } from '../support/review.js';
import { freePort, startServe, type AdmissionResponse, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';
import { closeServer, listenLoopback } from '../support/net.js';

const WEBHOOK_TIMEOUT_SECONDS = 3;
/** Bytes of each upstream answer the cutting proxy lets through before it destroys the connection. */
const CUT_AFTER_BYTES = 40;
const scratch = makeTempDir('faults-more');

interface CuttingProxy {
  readonly server: TcpServer;
  readonly host: string;
  readonly sockets: Set<Socket>;
  /** Connections cut after CUT_AFTER_BYTES of a response had been forwarded. */
  cuts: number;
  /** When false, the proxy forwards everything. */
  cutting: boolean;
}

/** A TCP proxy to `upstream` that forwards the request, then the first CUT_AFTER_BYTES of the
 * response, then destroys both sockets: the registry "dies" mid-response. */
async function startCuttingProxy(upstream: string): Promise<CuttingProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(':');
  const sockets = new Set<Socket>();
  const proxy = { cuts: 0, cutting: true } as CuttingProxy;
  const server = createTcpServer((client) => {
    const server = connect(Number(upstreamPort), upstreamHost ?? '127.0.0.1');
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => { sockets.delete(socket); client.destroy(); server.destroy(); });
    }
    client.pipe(server);
    let forwarded = 0;
    server.on('data', (chunk: Buffer) => {
      if (!proxy.cutting) {
        client.write(chunk);
        return;
      }
      client.write(chunk.subarray(0, CUT_AFTER_BYTES - forwarded), () => {
        proxy.cuts++;
        client.destroy();
        server.destroy();
      });
      forwarded = CUT_AFTER_BYTES;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return Object.assign(proxy, { server, sockets, host: `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` });
}

/** A "registry" that demands a Bearer token from a realm on a closed loopback port. */
async function startTokenOnlyRegistry(): Promise<{ server: HttpServer; host: string; requests: string[] }> {
  const closedPort = await freePort();
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${closedPort}/token",service=x`, 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  });
  return { server, requests, host: await listenLoopback(server) };
}


let registry: TestRegistry, crane: TestRegistry, untrusted: TestRegistry;
let proxy: CuttingProxy;
let tokenOnly: Awaited<ReturnType<typeof startTokenOnlyRegistry>>;
let signer: CosignKeyPair;
let serve: ServeProcess;
let behindProxy: TestImage, onUntrusted: TestImage;
let healthy: TestImage[] = [];

beforeAll(async () => {
  [registry, crane, untrusted, tokenOnly] = await Promise.all([
    startDistributionRegistry({ tls: true }),
    startCraneRegistry(),
    startDistributionRegistry({ tls: true }),
    startTokenOnlyRegistry(),
  ]);
  proxy = await startCuttingProxy(crane.host);
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  [behindProxy, onUntrusted, ...healthy] = await Promise.all([
    pushImage(crane, 'faults/app', 'v1', [signer]),
    pushImage(untrusted, 'faults/app', 'v1', [signer]),
    ...['after-cut', 'after-tls', 'after-token'].map((tag) => pushImage(registry, 'faults/healthy', tag, [signer])),
  ]);
  const release = [{ name: 'release', publicKeyFile: signer.publicKey }];
  serve = await startServe({
    policies: [
      { name: 'healthy', images: [`${registry.host}/**`], authorities: release },
      { name: 'cut', images: [`${proxy.host}/**`], authorities: release },
      { name: 'untrusted', images: [`${untrusted.host}/**`], authorities: release },
      { name: 'token', images: [`${tokenOnly.host}/**`], authorities: release },
    ],
    // The untrusted registry is left out on purpose: its CA is never given to sigward.
    registries: [registry],
    insecureRegistries: [proxy.host, tokenOnly.host],
    webhookTimeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
  });
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  for (const socket of proxy?.sockets ?? []) socket.destroy();
  await Promise.all([registry?.stop(), crane?.stop(), untrusted?.stop(), closeServer(proxy?.server), closeServer(tokenOnly?.server)]);
  await closeRegistryAgents();
  scratch.remove();
});

async function timedReview(image: string): Promise<{ uid: string; response: AdmissionResponse; elapsedMs: number }> {
  const request = createReview('Pod', image);
  const started = performance.now();
  const response = await serve.admit('/validate', request);
  return { uid: request.request.uid, response, elapsedMs: performance.now() - started };
}

function expectDeniedInTime(result: Awaited<ReturnType<typeof timedReview>>, parts: readonly (string | RegExp)[]): void {
  expect(result.response).toMatchObject({ uid: result.uid, allowed: false, status: { code: 403 } });
  for (const part of parts) {
    if (typeof part === 'string') expect(result.response.status?.message).toContain(part);
    else expect(result.response.status?.message).toMatch(part);
  }
  expect(result.elapsedMs).toBeLessThan(WEBHOOK_TIMEOUT_SECONDS * 1000);
}

async function expectStillServing(image: TestImage): Promise<void> {
  const health = await serve.get('/healthz');
  const { uid, response } = await timedReview(image.reference);
  expect({ health: health.status, exited: serve.exited(), uid: response.uid, allowed: response.allowed }).toEqual({ health: 200, exited: false, uid, allowed: true });
}

describe('when the registry connection is cut in the middle of a response', () => {
  let result: Awaited<ReturnType<typeof timedReview>>;
  const proxied = (): string => `${proxy.host}/faults/app:v1`;

  beforeAll(async () => {
    result = await timedReview(proxied());
  }, 30_000);

  it('denies inside the webhook deadline with a registry reason', () => {
    expectDeniedInTime(result, [`image ${proxied()}`, 'ClusterImagePolicy cut (enforce)', /REGISTRY_[A-Z_]+/]);
  });

  it('reached the registry through the proxy, which cut the answer', () => {
    expect(proxy.cuts).toBeGreaterThan(0);
  });

  it('stays healthy and keeps admitting signed images', async () => {
    await expectStillServing(healthy[0]!);
  });

  it('admits the same signed image once the connection is no longer cut', async () => {
    proxy.cutting = false;
    const admitted = await timedReview(`${proxy.host}/faults/app@${behindProxy.digest}`);
    expect({ uid: admitted.response.uid, allowed: admitted.response.allowed }).toEqual({ uid: admitted.uid, allowed: true });
  });
});

describe('when the registry presents a certificate from a CA sigward was not given', () => {
  let result: Awaited<ReturnType<typeof timedReview>>;

  beforeAll(async () => {
    result = await timedReview(onUntrusted.reference);
  }, 30_000);

  it('denies inside the webhook deadline with REGISTRY_TLS', () => {
    expectDeniedInTime(result, [`image ${onUntrusted.reference}`, 'ClusterImagePolicy untrusted (enforce)', 'REGISTRY_TLS']);
  });

  it('stays healthy and keeps admitting signed images', async () => {
    await expectStillServing(healthy[1]!);
  });
});

describe('when the registry demands a Bearer token and its token endpoint is down', () => {
  let result: Awaited<ReturnType<typeof timedReview>>;
  const image = (): string => `${tokenOnly.host}/faults/app:v1`;

  beforeAll(async () => {
    result = await timedReview(image());
  }, 30_000);

  it('asked the registry, then denies inside the webhook deadline with a reason', () => {
    expect(tokenOnly.requests.length).toBeGreaterThan(0);
    expectDeniedInTime(result, [`image ${image()}`, 'ClusterImagePolicy token (enforce)', /REGISTRY_(AUTH|UNREACHABLE)/]);
  });

  it('stays healthy and keeps admitting signed images', async () => {
    await expectStillServing(healthy[2]!);
  });
});
