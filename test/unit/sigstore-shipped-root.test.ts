import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parsePolicy } from '../../src/policy/index.js';
import { SHIPPED_TRUSTED_ROOT_FILE, shippedTrustedRoot } from '../../src/sigstore/index.js';
import { WHERE, clusterDoc } from './policy-fixtures.js';

describe('the shipped public-good trusted root', () => {
  it('is the file data/PROVENANCE.md records, byte for byte', () => {
    const provenance = readFileSync(new URL('../../data/PROVENANCE.md', import.meta.url), 'utf8');
    const digest = createHash('sha256').update(readFileSync(SHIPPED_TRUSTED_ROOT_FILE)).digest('hex');
    expect(provenance).toContain(`sha256 \`${digest}\``);
  });

  it('holds the public-good Rekor v1 and v2 logs, Fulcio, CT logs and the timestamp authority', () => {
    const { root } = shippedTrustedRoot();
    const text = readFileSync(SHIPPED_TRUSTED_ROOT_FILE, 'utf8');
    expect(text).toContain('https://rekor.sigstore.dev');
    expect(text).toContain('https://log2025-1.rekor.sigstore.dev');
    expect(text).toContain('https://fulcio.sigstore.dev');
    expect(root.tlogs.length).toBeGreaterThanOrEqual(2);
  });

  it('is what a keyless authority without trustedRoot trusts', () => {
    const doc = clusterDoc();
    doc.spec.authorities[0] = { name: 'ci', keyless: { issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: 'https://github\\.com/acme/.*' } };
    const compiled = parsePolicy(doc, WHERE);
    expect(compiled.authorities[0]?.keyless?.trustedRoot).toBe(shippedTrustedRoot().root);
  });
});
