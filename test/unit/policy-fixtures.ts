/* eslint-disable @typescript-eslint/no-explicit-any -- the tests mutate untyped documents, as a user's YAML is untyped */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PolicyError, parsePolicyText, type CompiledPolicy } from '../../src/policy/index.js';

/** Shared by the policy tests: real keys from the fixtures, a valid policy document, and its problems. */
export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
export const COSIGN_PUB = readFileSync(`${FIXTURES}/legacy/containers-image/cosign.pub`, 'utf8');
export const COSIGN2_PUB = readFileSync(`${FIXTURES}/legacy/containers-image/cosign2.pub`, 'utf8');
export const RSA_PUB = readFileSync(`${FIXTURES}/legacy/sigstore-rs/rsa-2048.pub`, 'utf8');
export const FULCIO_CERT = readFileSync(`${FIXTURES}/legacy/containers-image/fulcio_v1.crt.pem`, 'utf8');
export const WHERE = 'policies.yaml#2 (ClusterImagePolicy acme-release)';

/** A valid ClusterImagePolicy; each test mutates its own copy. */
export function clusterDoc(): Record<string, any> {
  return {
    apiVersion: 'sigward.dev/v1alpha1',
    kind: 'ClusterImagePolicy',
    metadata: { name: 'acme-release' },
    spec: {
      images: [{ glob: 'registry.example.com/acme/**' }],
      authorities: [{ name: 'release', key: { data: COSIGN_PUB } }],
    },
  };
}

/** The field-path problems of a POLICY_INVALID error thrown by `run`. */
export function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof PolicyError && err.code === 'POLICY_INVALID') return err.problems;
    throw err;
  }
  throw new Error('expected a POLICY_INVALID error');
}

/** The ClusterImagePolicy `acme`: images under registry.example.com/acme, one authority with `pem`. */
export function acmePolicies(pem: string): readonly CompiledPolicy[] {
  return parsePolicyText(`apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: acme }
spec:
  images: [ { glob: "registry.example.com/acme/**" } ]
  authorities: [ { name: release, key: { data: ${JSON.stringify(pem)} } } ]
`, 'p.yaml').policies;
}
