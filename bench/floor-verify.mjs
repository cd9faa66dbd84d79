/**
 * The floor for `sigward verify` as a whole process: the least a Node program must do to verify
 * a legacy cosign signature, with nothing but node's core modules (node:http, node:crypto). HEAD
 * the tag, GET the `sha256-<hex>.sig` manifest, GET each payload blob, check its digest, the
 * ECDSA signature and the digest the payload names. Plain HTTP registries only, no auth, no
 * bundles, no limits: a yardstick for process start-up and module cost, not a verifier.
 *
 *   node bench/floor-verify.mjs HOST/REPO:TAG cosign.pub     (exit 0 when verified)
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [image, keyFile] = process.argv.slice(2);
const parts = /^([^/]+)\/(.+):([^:/]+)$/.exec(image ?? '');
if (!parts || !keyFile) {
  console.error('usage: node bench/floor-verify.mjs HOST/REPO:TAG KEY.pub');
  process.exit(2);
}
const [, host, repo, tag] = parts;
const key = createPublicKey(readFileSync(keyFile));
const agent = new http.Agent({ keepAlive: true });
const base = `http://${host}/v2/${repo}`;

function get(url, { method = 'GET', accept } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: accept ? { accept } : {}, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

const head = await get(`${base}/manifests/${tag}`, {
  method: 'HEAD',
  accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
});
const digest = head.headers['docker-content-digest'];
let verified = 0;
if (head.status === 200 && /^sha256:[0-9a-f]{64}$/.test(digest ?? '')) {
  const sig = await get(`${base}/manifests/sha256-${digest.slice(7)}.sig`, { accept: 'application/vnd.oci.image.manifest.v1+json' });
  const layers = sig.status === 200 ? JSON.parse(sig.body.toString()).layers ?? [] : [];
  for (const layer of layers) {
    const signature = layer.annotations?.['dev.cosignproject.cosign/signature'];
    if (!signature) continue;
    const payload = (await get(`${base}/blobs/${layer.digest}`)).body;
    if (`sha256:${createHash('sha256').update(payload).digest('hex')}` !== layer.digest) continue;
    if (!verify('sha256', payload, key, Buffer.from(signature, 'base64'))) continue;
    if (JSON.parse(payload.toString()).critical?.image?.['docker-manifest-digest'] === digest) verified++;
  }
}
agent.destroy();
console.log(verified > 0 ? `verified ${host}/${repo}@${digest}` : `${image}: not verified`);
process.exitCode = verified > 0 ? 0 : 1;
