/**
 * `sigward serve` when registries misbehave: one that is gone (stopped before the review), one
 * that accepts connections and never answers, and one that answers 200 with garbage once the
 * review is under way. Each must end in a deny with a reason, answered inside the webhook
 * deadline (--webhook-timeout 3, measured on the wall clock), and the server must stay healthy
 * and keep admitting signed images from a working registry (docs/design.md §3, §4: fail closed,
 * whatever the registries do).
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MEDIA_TYPE } from '../../src/constants.js';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { makeTempDir, sleep } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview } from '../support/review.js';
import { startServe, type AdmissionResponse, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';
import { closeServer, listenLoopback } from '../support/net.js';

const AUTH = { username: 'sigward-faults', password: 'serve-faults-77b0' };
const WEBHOOK_TIMEOUT_SECONDS = 3;
const scratch = makeTempDir('serve-faults');
let registry: TestRegistry;
let doomed: TestRegistry;
let silent: { server: TcpServer; sockets: Set<Socket>; host: string };
let garbage: { server: HttpServer; requests: string[]; host: string };
let signer: CosignKeyPair;
let serve: ServeProcess;
let doomedImage: TestImage;
let healthy: TestImage[] = [];

/** A TCP server that accepts every connection, reads what it is sent, and never writes a byte.
 * (It reads so that it notices when the client hangs up: a paused socket never sees the FIN.) */
async function startSilentServer(): Promise<typeof silent> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, sockets, host: `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` };
}

/** The manifest a tag HEAD names; the registry never serves it, only its digest. */
const STATED_MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, layers: [] });
const STATED_DIGEST = `sha256:${createHash('sha256').update(STATED_MANIFEST).digest('hex')}`;
const GARBAGE = '<html><body>502 upstream hiccup</body></html>\n\u0000\u00ff not JSON';

/**
 * A plain-HTTP "registry" that resolves tags properly (HEAD with digest, type and length), so
 * the review gets under way, then answers every manifest and referrers GET with 200 and bytes
 * that are not JSON.
 */
async function startGarbageRegistry(): Promise<typeof garbage> {
  const requests: string[] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    if (req.method === 'HEAD' && /\/manifests\/[^/]+$/.test(req.url ?? '') && !(req.url ?? '').includes('sha256-')) {
      res.writeHead(200, { 'content-type': MEDIA_TYPE.ociManifest, 'docker-content-digest': STATED_DIGEST, 'content-length': Buffer.byteLength(STATED_MANIFEST) });
      res.end();
      return;
    }
    const isIndex = (req.url ?? '').includes('/referrers/');
    res.writeHead(200, { 'content-type': isIndex ? MEDIA_TYPE.ociIndex : MEDIA_TYPE.ociManifest });
    res.end(req.method === 'HEAD' ? undefined : GARBAGE);
  });
  return { server, requests, host: await listenLoopback(server) };
}


beforeAll(async () => {
  [registry, doomed, silent, garbage] = await Promise.all([
    startDistributionRegistry({ auth: AUTH, tls: true }),
    startDistributionRegistry({ tls: true }),
    startSilentServer(),
    startGarbageRegistry(),
  ]);
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  const release = [{ name: 'release', publicKeyFile: signer.publicKey }];
  doomedImage = await pushImage(doomed, 'faults/app', 'v1', [signer]);
  healthy = await Promise.all(['after-down', 'after-silence', 'after-garbage'].map((tag) => pushImage(registry, 'faults/healthy', tag, [signer])));
  serve = await startServe({
    policies: [
      { name: 'healthy', images: [`${registry.host}/**`], authorities: release },
      { name: 'doomed', images: [`${doomed.host}/**`], authorities: release },
      { name: 'silent', images: [`${silent.host}/**`], authorities: release },
      { name: 'garbage', images: [`${garbage.host}/**`], authorities: release },
    ],
    registries: [registry, doomed],
    insecureRegistries: [silent.host, garbage.host],
    webhookTimeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
  });
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await Promise.all([registry?.stop(), doomed?.stop()]);
  for (const socket of silent?.sockets ?? []) socket.destroy();
  await Promise.all([closeServer(silent?.server), closeServer(garbage?.server)]);
  await closeRegistryAgents();
  scratch.remove();
});

/** Reviews a pod running `image` and measures the wall time until the answer is in. */
async function timedReview(image: string): Promise<{ uid: string; response: AdmissionResponse; elapsedMs: number }> {
  const request = createReview('Pod', image);
  const started = performance.now();
  const response = await serve.admit('/validate', request);
  return { uid: request.request.uid, response, elapsedMs: performance.now() - started };
}

/** After a fault: alive, ready, and a signed image never seen before is admitted from the real registry. */
async function expectStillServing(image: TestImage): Promise<void> {
  const [health, ready] = await Promise.all([serve.get('/healthz'), serve.get('/readyz')]);
  const { uid, response } = await timedReview(image.reference);
  expect({ health: health.status, ready: ready.status, exited: serve.exited(), uid: response.uid, allowed: response.allowed, status: response.status }).toEqual({
    health: 200, ready: 200, exited: false, uid, allowed: true, status: undefined,
  });
}

describe('when the registry has been stopped before the review', () => {
  let result: Awaited<ReturnType<typeof timedReview>>;

  beforeAll(async () => {
    await doomed.stop();
    result = await timedReview(doomedImage.reference);
  }, 30_000);

  it('denies inside the webhook deadline, saying the registry cannot be reached', () => {
    expect(result.response).toMatchObject({ uid: result.uid, allowed: false, status: { code: 403 } });
    expect(result.response.status?.message).toContain(`spec.containers[0].image (container app-0): image ${doomedImage.reference}`);
    expect(result.response.status?.message).toContain(': ClusterImagePolicy doomed (enforce): ');
    expect(result.response.status?.message).toMatch(/REGISTRY_UNREACHABLE.*ECONNREFUSED/);
    expect(result.elapsedMs).toBeLessThan(WEBHOOK_TIMEOUT_SECONDS * 1000);
  });

  it('stays healthy and keeps admitting signed images', async () => {
    await expectStillServing(healthy[0]!);
  });
});

describe('when the registry accepts the connection and never answers', () => {
  let result: Awaited<ReturnType<typeof timedReview>>;

  beforeAll(async () => {
    result = await timedReview(`${silent.host}/faults/app:v1`);
  }, 30_000);

  it('denies inside the webhook deadline, naming the timeout', () => {
    expect(result.response).toMatchObject({ uid: result.uid, allowed: false, status: { code: 403 } });
    expect(result.response.status?.message).toContain(`spec.containers[0].image (container app-0): image ${silent.host}/faults/app:v1`);
    expect(result.response.status?.message).toContain(`webhook timeout ${WEBHOOK_TIMEOUT_SECONDS}s`);
    expect(result.elapsedMs).toBeLessThan(WEBHOOK_TIMEOUT_SECONDS * 1000);
  });

  // docs/design.md §3: a denial names, for each failing image, the policy. The policies that match are
  // known before any registry request (matching is pure), so a review cut off by the deadline
  // can name them too; "policy (none)" reads as if no policy had matched.
  it('names the policy whose check did not finish', () => {
    expect(result.response.status?.message).toContain(': ClusterImagePolicy silent (enforce): ');
  });

  it('reached the silent server (the deadline, not a refused connection, ended the review)', () => {
    expect(result.elapsedMs).toBeGreaterThan(WEBHOOK_TIMEOUT_SECONDS * 1000 * 0.5);
  });

  it('lets go of the connection it was waiting on', async () => {
    for (let i = 0; i < 40 && silent.sockets.size > 0; i++) await sleep(50);
    expect(silent.sockets.size).toBe(0);
  });

  it('stays healthy and keeps admitting signed images', async () => {
    await expectStillServing(healthy[1]!);
  });
});

describe('when the registry answers 200 with garbage in the middle of the review', () => {
  let result: Awaited<ReturnType<typeof timedReview>>;

  beforeAll(async () => {
    result = await timedReview(`${garbage.host}/faults/app:v1`);
  }, 30_000);

  it('resolved the tag, then met the garbage when it looked for signatures', () => {
    const sigTag = `sha256-${STATED_DIGEST.slice('sha256:'.length)}.sig`;
    expect(garbage.requests).toEqual(expect.arrayContaining(['HEAD /v2/faults/app/manifests/v1', `GET /v2/faults/app/manifests/${sigTag}`]));
  });

  it('denies inside the webhook deadline, naming the digest and the malformed answer', () => {
    expect(result.response).toMatchObject({ uid: result.uid, allowed: false, status: { code: 403 } });
    expect(result.response.status?.message).toContain(`image ${garbage.host}/faults/app:v1, digest ${STATED_DIGEST}: ClusterImagePolicy garbage (enforce)`);
    expect(result.response.status?.message).toMatch(/REGISTRY_RESPONSE_INVALID|SIGNATURE_MALFORMED/);
    expect(result.elapsedMs).toBeLessThan(WEBHOOK_TIMEOUT_SECONDS * 1000);
  });

  it('stays healthy and keeps admitting signed images', async () => {
    await expectStillServing(healthy[2]!);
  });
});
