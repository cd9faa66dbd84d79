/**
 * `serve --client-ca` (docs/design.md §3 "Callers"): reviews are answered only for a client presenting a
 * certificate issued by that CA, as the API server does when an AdmissionConfiguration gives it
 * one; the health probes stay open (the kubelet presents no certificate). CAs and certificates
 * are made by openssl.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, fetch } from 'undici';
import { startServer } from '../../src/server/server.js';
import { issueClientCertificate, makeTestPki, type ClientCertificate } from '../support/tls.js';
import { reviewOf } from './admission-fixtures.js';
import { scriptedEvaluator, startHarness, type Harness } from './server-support.js';

let dir: string;
let harness: Harness;
let apiServer: ClientCertificate;
let stranger: ClientCertificate;
const evaluator = scriptedEvaluator();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigward-client-ca-'));
  const [trusted, other] = [mkdtempSync(join(dir, 'trusted-')), mkdtempSync(join(dir, 'other-'))];
  const [trustedPki, otherPki] = await Promise.all([makeTestPki(trusted), makeTestPki(other)]);
  [apiServer, stranger] = await Promise.all([
    issueClientCertificate(trusted, trustedPki, 'kube-apiserver'),
    issueClientCertificate(other, otherPki, 'kube-apiserver'),
  ]);
  harness = await startHarness(evaluator, { clientCaFile: trustedPki.caFile, metricsPort: null });
}, 60_000);

afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, client: ClientCertificate | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
  const agent = new Agent({
    connect: {
      ca: harness.server.certificate,
      ...(client === undefined ? {} : { cert: readFileSync(client.certFile, 'utf8'), key: readFileSync(client.keyFile, 'utf8') }),
    },
  });
  try {
    const res = await fetch(`https://127.0.0.1:${harness.server.port}${path}`, {
      method: 'POST', body: JSON.stringify(reviewOf('Pod')), headers: { 'content-type': 'application/json' }, dispatcher: agent,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } finally {
    await agent.close();
  }
}

describe('serve --client-ca', () => {
  it('answers a review from a client whose certificate the CA issued', async () => {
    const before = evaluator.evaluated.length;
    const answer = await post('/validate', apiServer);
    expect(answer.status).toBe(200);
    expect((answer.body.response as { allowed: boolean }).allowed).toBe(true);
    expect(evaluator.evaluated.length).toBe(before + 1);
  });

  it.each([
    ['no certificate', undefined],
    ['a certificate from another CA', 'stranger'],
  ] as const)('refuses %s with 403, reading no review', async (_what, who) => {
    const before = evaluator.evaluated.length;
    for (const path of ['/validate', '/mutate']) {
      const answer = await post(path, who === undefined ? undefined : stranger);
      expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 403, error: 'CLIENT_CERTIFICATE_REQUIRED' });
    }
    expect(evaluator.evaluated.length).toBe(before);
  });

  it('keeps /healthz and /readyz open to a prober without a certificate', async () => {
    expect((await harness.get('/healthz')).status).toBe(200);
    expect((await harness.get('/readyz')).status).toBe(200);
  });

  it.each([
    ['a file that does not exist', 'missing.pem', 'FILE_UNREADABLE'],
    ['a file with no certificate', 'empty.pem', 'CONFIG_INVALID'],
    ['a certificate that is not a CA', 'leaf.pem', 'CONFIG_INVALID'],
  ])('refuses to start with %s, naming the flag', async (_what, name, code) => {
    if (name === 'empty.pem') writeFileSync(join(dir, name), 'not a certificate\n');
    if (name === 'leaf.pem') writeFileSync(join(dir, name), readFileSync(apiServer.certFile, 'utf8'));
    await expect(startServer({ evaluator, host: '127.0.0.1', port: 0, metricsPort: null, clientCaFile: join(dir, name) }))
      .rejects.toMatchObject({ code, message: expect.stringContaining('--client-ca') });
  });
});
