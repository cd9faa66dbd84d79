/**
 * The public-good trusted root sigward ships (data/public-good-trusted-root.json, provenance in
 * data/PROVENANCE.md), used when no trusted root is named. Read from disk on first use only, and
 * parsed once; a missing or broken file is TRUSTED_ROOT_INVALID naming it (never "trust anything").
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeError, SigwardError } from '../errors.js';
import { parseTrustedRoot } from './trusted-root.js';
import type { TrustedRoot } from './types.js';

/** From dist/sigstore/ and src/sigstore/ alike. */
export const SHIPPED_TRUSTED_ROOT_FILE = fileURLToPath(new URL('../../data/public-good-trusted-root.json', import.meta.url));

let shipped: { readonly text: string; readonly root: TrustedRoot; readonly digest: string } | undefined;

export function shippedTrustedRoot(): { readonly text: string; readonly root: TrustedRoot; readonly digest: string } {
  if (shipped !== undefined) return shipped;
  let text: string;
  try {
    text = readFileSync(SHIPPED_TRUSTED_ROOT_FILE, 'utf8');
  } catch (err) {
    throw new SigwardError('TRUSTED_ROOT_INVALID', `the shipped trusted root ${SHIPPED_TRUSTED_ROOT_FILE} cannot be read: ${describeError(err)}`, { cause: err });
  }
  shipped = { text, root: parseTrustedRoot(text), digest: createHash('sha256').update(text).digest('hex') };
  return shipped;
}
