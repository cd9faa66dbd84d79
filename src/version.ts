import { readFileSync } from 'node:fs';

/** sigward's version, from the package.json shipped beside `dist/` (and beside `src/` in a
 * checkout). Read once, on first use; 'unknown' if the file is missing or malformed. */
let cached: string | undefined;

export function sigwardVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const version = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
    cached = typeof version === 'string' && /^\d+\.\d+\.\d+[\w.+-]*$/.test(version) ? version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
