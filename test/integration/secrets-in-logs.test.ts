/**
 * Registry credentials never reach a log: `sigward serve` given a login through
 * --registry-config (one server with the right password, one with a wrong one) and
 * `sigward verify` with a wrong password both talk to a distribution registry that demands
 * htpasswd Basic auth. Their logs and stderr must not carry the password, the base64
 * `user:pass` of the Authorization header, or a Bearer token (a small token-auth registry in the
 * test hands out a token, then refuses it); they must still name the host whose authentication
 * failed (so the search below reads real failure lines).
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { writeDockerConfig } from '../support/docker-config.js';
import { closeRegistryAgents } from '../support/http.js';
import { makeTempDir, sleep } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview } from '../support/review.js';
import { runSigward } from '../support/sigward.js';
import { startServe, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const AUTH = { username: 'sigward-secret-user', password: 'pw-7c1f0e93d2ab4e58' };
const WRONG = 'wrong-pw-51be9a0c44d7';
const scratch = makeTempDir('secrets-in-logs');
let registry: TestRegistry;
let signer: CosignKeyPair;
let good: ServeProcess, bad: ServeProcess, plugged: ServeProcess;
let signed: TestImage, unsigned: TestImage;
let verifyStderr = '';
const TOKEN = 'tok-3f9a1c77e0b24d6a8e5c';
let tokenRegistry: { server: Server; host: string; bearerSeen: number };

/** A plain-HTTP registry that sends clients to its own token endpoint, issues TOKEN there, and
 * answers 401 to every request, with or without it (a token that does not grant the pull). */
async function startTokenRegistry(): Promise<typeof tokenRegistry> {
  const state = { bearerSeen: 0 } as typeof tokenRegistry;
  const server = createServer((req, res) => {
    if ((req.url ?? '').startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: TOKEN, access_token: TOKEN, expires_in: 300 }));
      return;
    }
    if (req.headers.authorization === `Bearer ${TOKEN}`) state.bearerSeen++;
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${state.host}/token",service=secrets-test,scope="repository:secret/app:pull"`, 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"token does not grant pull"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return Object.assign(state, { server, host: `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` });
}

/** Every spelling of a credential that a careless log line could carry. */
const secrets = (password: string): string[] => [password, Buffer.from(`${AUTH.username}:${password}`).toString('base64')];
const BEARER_VALUE = /Bearer\s+[A-Za-z0-9._~+/=-]{8,}/;

beforeAll(async () => {
  registry = await startDistributionRegistry({ auth: AUTH, tls: true });
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  [signed, unsigned] = await Promise.all([pushImage(registry, 'secret/app', 'signed', [signer]), pushImage(registry, 'secret/app', 'unsigned')]);
  tokenRegistry = await startTokenRegistry();
  const authorities = [{ name: 'release', publicKeyFile: signer.publicKey }];
  const policies = [{ name: 'secret', images: [`${registry.host}/**`], authorities }, { name: 'token', images: [`${tokenRegistry.host}/**`], authorities }];
  // A credential provider plugin that hands out the wrong password and prints the right one on stderr.
  const bin = join(scratch.dir, 'plugins');
  mkdirSync(bin, { recursive: true });
  const answer = JSON.stringify({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderResponse', cacheKeyType: 'Registry', auth: { [registry.host]: { username: AUTH.username, password: WRONG } } });
  writeFileSync(join(bin, 'leaky-provider'), `#!/bin/sh\ncat > /dev/null\necho "debug: ${AUTH.password}" >&2\necho '${answer}'\n`, { mode: 0o755 });
  const providers = join(scratch.dir, 'providers.yaml');
  writeFileSync(providers, JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: [
    { name: 'leaky-provider', matchImages: [registry.host], defaultCacheDuration: '1m', apiVersion: 'credentialprovider.kubelet.k8s.io/v1' }] }));
  const noLogin = { ...registry, username: undefined, password: undefined } as unknown as TestRegistry;
  [good, bad, plugged] = await Promise.all([
    startServe({ policies, registries: [registry], insecureRegistries: [tokenRegistry.host] }),
    startServe({ policies, registries: [{ ...registry, password: WRONG }] }),
    startServe({ policies, registries: [noLogin], extraArgs: ['--credential-provider-config', providers, '--credential-provider-bin-dir', bin] }),
  ]);
  const config = writeDockerConfig(join(scratch.dir, 'wrong-docker'), [{ host: registry.host, username: AUTH.username, password: WRONG }]);
  const caFile = registry.caFile ?? '';
  const result = await runSigward(['verify', signed.reference, '--key', signer.publicKey, '--ca-file', caFile, '--registry-config', config]);
  expect(result.code).toBe(1);
  verifyStderr = result.stderr;
}, 180_000);

afterAll(async () => {
  await Promise.all([good?.stop(), bad?.stop(), plugged?.stop()]);
  await registry?.stop();
  await new Promise<void>((resolve) => { if (tokenRegistry === undefined) resolve(); else tokenRegistry.server.close(() => { resolve(); }); });
  await closeRegistryAgents();
  scratch.remove();
});

/** serve's log once a line satisfies `wanted` (it writes a decision's line as the answer leaves),
 * or as it stands after two seconds. */
async function logOnce(serve: ServeProcess, wanted: (line: string) => boolean): Promise<string> {
  for (let i = 0; i < 40 && !serve.log().split('\n').some(wanted); i++) await sleep(50);
  return serve.log();
}

function expectNoSecrets(text: string): void {
  for (const line of text.split('\n')) {
    for (const secret of [...secrets(AUTH.password), ...secrets(WRONG), TOKEN]) expect(line).not.toContain(secret);
    expect(line).not.toMatch(BEARER_VALUE);
  }
}

describe('when serve logs in with the right credentials', () => {
  it('admits the signed image, denies the unsigned one, and logs no credential', async () => {
    const admit = await good.admit('/validate', createReview('Pod', signed.reference));
    const deny = await good.admit('/validate', createReview('Pod', unsigned.reference));
    expect({ admitted: admit.allowed, denied: deny.allowed }).toEqual({ admitted: true, denied: false });
    const log = await logOnce(good, (line) => line.includes(unsigned.digest));
    expect(log).toContain(unsigned.digest);
    expectNoSecrets(log);
  });
});

describe('when serve logs in with a wrong password', () => {
  it('denies with REGISTRY_AUTH naming the host, and logs the failure without the credential', async () => {
    const response = await bad.admit('/validate', createReview('Pod', signed.reference));
    expect(response).toMatchObject({ allowed: false, status: { code: 403 } });
    expect(response.status?.message).toMatch(/REGISTRY_AUTH/);
    expectNoSecrets(JSON.stringify(response));
    const names = (line: string): boolean => line.includes('REGISTRY_AUTH') && line.includes(registry.host);
    const log = await logOnce(bad, names);
    expect(log.split('\n').some(names)).toBe(true);
    expectNoSecrets(log);
  });
});

describe('when a credential provider plugin hands out a credential the registry refuses', () => {
  it('denies naming the host and the plugin as the source tried, and logs neither its credential nor its stderr', async () => {
    const response = await plugged.admit('/validate', createReview('Pod', signed.reference));
    expect(response).toMatchObject({ allowed: false, status: { code: 403 } });
    expect(response.status?.message).toContain('credential provider plugin leaky-provider');
    expectNoSecrets(JSON.stringify(response));
    const names = (line: string): boolean => line.includes('REGISTRY_AUTH') && line.includes(registry.host);
    const log = await logOnce(plugged, names);
    expect(log.split('\n').some(names)).toBe(true);
    expectNoSecrets(log);
  });
});

describe('when a registry refuses the Bearer token its token endpoint issued', () => {
  it('denies naming the host, and logs neither the token nor the header', async () => {
    const image = `${tokenRegistry.host}/secret/app:v1`;
    const response = await good.admit('/validate', createReview('Pod', image));
    expect(response).toMatchObject({ allowed: false, status: { code: 403 } });
    expect(response.status?.message).toMatch(/REGISTRY_AUTH|REGISTRY_DENIED/);
    // sigward fetched the token and presented it: the search below has something to miss.
    expect(tokenRegistry.bearerSeen).toBeGreaterThan(0);
    expectNoSecrets(JSON.stringify(response));
    const names = (line: string): boolean => /REGISTRY_AUTH|REGISTRY_DENIED/.test(line) && line.includes(tokenRegistry.host);
    const log = await logOnce(good, names);
    expect(log.split('\n').some(names)).toBe(true);
    expectNoSecrets(log);
  });
});

describe('when sigward verify is given a wrong password', () => {
  it('reports the auth failure naming the host on stderr, without the credential', () => {
    expect(verifyStderr.split('\n').some((line) => line.includes('REGISTRY_AUTH') && line.includes(registry.host))).toBe(true);
    expectNoSecrets(verifyStderr);
  });
});
