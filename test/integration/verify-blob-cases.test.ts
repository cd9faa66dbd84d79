/**
 * Every Sigstore bundle case of test/fixtures/cases.json through `sigward verify-blob`, as a user
 * would run it: the conformance suite's artifact bundles against their artifact file (a managed
 * key against the case's trusted root, with its log entry required; else the suite's keyless
 * identity), and the image bundles by their subject digest (`sha256:<hex>`). Each case gives the
 * verdict and the error code the library-level test expects of it.
 */
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CONFORMANCE_IDENTITY, EXPECTED_CODES, PUBLIC_GOOD_ROOT, TOBBY_SUBJECT, type BundleCase } from '../support/bundle-cases.js';
import { runSigward } from '../support/sigward.js';
import { FIXTURES, loadCases } from '../unit/cosign-fixtures.js';

const cases = (loadCases() as unknown as (BundleCase | { bundle?: undefined })[]).filter((c): c is BundleCase => c.bundle !== undefined);
const at = (path: string): string => join(FIXTURES, path);

function argsOf(c: BundleCase): string[] {
  const artifact = c.kind === 'sigstore-conformance bundle' ? at(c.artifact!) : (c.subjectDigest ?? TOBBY_SUBJECT);
  const root = ['--trusted-root', at(c.trustedRoot ?? PUBLIC_GOOD_ROOT)];
  if (c.publicKey !== undefined) {
    // The conformance suite's managed keys come with a log entry; cosign v3's image bundles here were made without one.
    const tlog = c.kind === 'sigstore-conformance bundle' ? root : ['--insecure-ignore-tlog'];
    return ['verify-blob', artifact, '--bundle', at(c.bundle), '--key', at(c.publicKey), ...tlog];
  }
  const identity = c.id === 'cosign-oci-attestation-keyless'
    ? ['--certificate-identity', 'cody@soyland.com', '--certificate-oidc-issuer', 'https://github.com/login/oauth']
    : ['--certificate-identity', CONFORMANCE_IDENTITY.subject, '--certificate-oidc-issuer', CONFORMANCE_IDENTITY.issuer];
  return ['verify-blob', artifact, '--bundle', at(c.bundle), ...identity, ...root];
}

describe('every bundle case of cases.json through sigward verify-blob', () => {
  it('covers them all', () => {
    expect(cases).toHaveLength(25);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const result = await runSigward(argsOf(c));
    if (c.expect === 'pass') {
      expect(`${result.code} ${result.stderr}`).toBe('0 ');
      expect(result.stdout).toMatch(/^Verified OK: /);
      return;
    }
    const code = EXPECTED_CODES[c.id];
    expect(code).toBeDefined();
    // A key file that holds no key is bad input (exit 2), as for verify; every other failure is "not verified".
    expect(result.code).toBe(code === 'KEY_INVALID' ? 2 : 1);
    expect(result.stderr).toContain(`(${code})`);
  }, 30_000);
});
