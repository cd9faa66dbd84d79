/**
 * `sigward verify` with cosign's KEYLESS flags, on a real registry: a keyless cosign signature
 * made with the public-good Fulcio and Rekor (recorded, test/fixtures/PROVENANCE.md), stored at
 * its `.sig` tag next to the image it signs, verified against the public-good trusted root with
 * the identity and issuer it was made for; exact and anchored-regexp flags, and each mismatch
 * with its own code; and with no --trusted-root, the public-good root sigward ships. No network
 * beyond loopback: trusted roots are files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MEDIA_TYPE } from '../../src/constants.js';
import { fixtureBytes, readStoredSignature, signatureManifest } from '../unit/cosign-fixtures.js';
import { closeRegistryAgents } from '../support/http.js';
import { pushBlob, pushManifest } from '../support/images.js';
import { makeTempDir } from '../support/process.js';
import { startCraneRegistry, type TestRegistry } from '../support/registries.js';
import { runSigward } from '../support/sigward.js';
import { REPO_ROOT } from '../support/tools.js';

const DIR = 'legacy/containers-image/dir-img-cosign-fulcio-rekor-valid';
const ROOT = join(REPO_ROOT, 'test', 'fixtures', 'bundles', 'trusted-roots', 'sigstore-go-testing-public-good.json');
const IDENTITY = 'mitr@redhat.com';
const ISSUER = 'https://github.com/login/oauth';
const scratch = makeTempDir('verify-keyless');
let registry: TestRegistry;
let image: string;
let digest: string;

beforeAll(async () => {
  registry = await startCraneRegistry();
  const manifest = fixtureBytes(`${DIR}/manifest.json`);
  digest = await pushManifest(registry, 'keyless/app', 'v1', manifest, MEDIA_TYPE.dockerManifest);
  const stored = readStoredSignature(`${DIR}/signature-1`);
  await pushBlob(registry, 'keyless/app', stored.payload);
  await pushBlob(registry, 'keyless/app', new TextEncoder().encode('{}'));
  const signature = signatureManifest([{ mediaType: stored.mediaType, payload: stored.payload, annotations: stored.annotations }]);
  await pushManifest(registry, 'keyless/app', `${digest.replace(':', '-')}.sig`, signature, MEDIA_TYPE.ociManifest);
  image = `${registry.host}/keyless/app:v1`;
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

const verify = (flags: readonly string[]) => runSigward(['verify', image, ...flags, '--insecure-registry', registry.host]);

describe('sigward verify with a keyless identity', () => {
  it('verifies the identity and issuer the certificate names, exactly or by an anchored regexp', async () => {
    const exact = await verify(['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--trusted-root', ROOT]);
    expect(`${exact.code} ${exact.stderr}`).toBe('0 ');
    expect(exact.stdout).toContain(`Verified ${registry.host}/keyless/app@${digest}: legacy signature`);
    expect(exact.stdout).toContain(`identity ${IDENTITY}`);
    const regexps = await verify(['--certificate-identity-regexp', '.*@redhat\\.com', '--certificate-oidc-issuer-regexp', 'https://github\\.com/.*', '--trusted-root', ROOT]);
    expect(`${regexps.code} ${regexps.stderr}`).toBe('0 ');
  });

  it.each([
    [['--certificate-identity', 'someone@redhat.com', '--certificate-oidc-issuer', ISSUER], 'IDENTITY_MISMATCH'],
    [['--certificate-identity-regexp', 'mitr@', '--certificate-oidc-issuer', ISSUER], 'IDENTITY_MISMATCH'],
    [['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', 'https://accounts.google.com'], 'ISSUER_MISMATCH'],
    [['--certificate-identity', IDENTITY, '--certificate-oidc-issuer-regexp', 'https://github\\.com'], 'ISSUER_MISMATCH'],
  ])('refuses %j with its code', async (flags, code) => {
    const result = await verify([...flags, '--trusted-root', ROOT]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`(${code})`);
  });

  it('uses the shipped public-good trusted root when none is named', async () => {
    const result = await verify(['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER]);
    expect(`${result.code} ${result.stderr}`).toBe('0 ');
  });

  it('refuses a signature under a trusted root that does not hold its Fulcio CA', async () => {
    const other = join(scratch.dir, 'empty-root.json');
    writeFileSync(other, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }));
    const result = await verify(['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--trusted-root', other]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`identity ${IDENTITY}: .*\\((CERTIFICATE_INVALID|TLOG_INVALID|TLOG_MISSING)\\)`));
  });

  it.each([
    [['--certificate-identity', IDENTITY, '--trusted-root', ROOT], 'exactly one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp'],
    [['--certificate-identity-regexp', 'a)|(.*', '--certificate-oidc-issuer', ISSUER, '--trusted-root', ROOT], '--certificate-identity-regexp: not a regular expression on its own'],
    [['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--trusted-root', ROOT, '--key', ROOT], '--key and the keyless flags exclude each other'],
  ])('is a usage error (exit 2) for %j', async (flags, message) => {
    const result = await verify(flags);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
