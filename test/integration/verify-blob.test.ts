/**
 * `sigward verify-blob` beside the real cosign v3: bundles made offline (no log upload) by
 * `cosign sign-blob --bundle` (a message signature) and `cosign attest-blob --bundle` (a DSSE
 * in-toto statement naming the artifact), then verified by `cosign verify-blob` /
 * `verify-blob-attestation` and by sigward, with the same verdict on the right key, a wrong key,
 * a tampered artifact, and a statement about another artifact (wrong subject).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cosignBinary, cosignEnv, EMPTY_TRUSTED_ROOT, generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { makeTempDir, runChecked, runCommand } from '../support/process.js';
import { runSigward } from '../support/sigward.js';

const scratch = makeTempDir('verify-blob');
const file = (name: string): string => join(scratch.dir, name);
let signer: CosignKeyPair;
let other: CosignKeyPair;
let emptyRoot: string;

async function cosign(args: readonly string[], check = true) {
  const env = cosignEnv(undefined);
  try {
    return await (check ? runChecked : runCommand)(cosignBinary(3), args, { env: env.env, timeoutMs: 60_000 });
  } finally {
    env.remove();
  }
}

beforeAll(async () => {
  signer = await generateKeyPair(scratch.dir, 3, 'signer');
  other = await generateKeyPair(scratch.dir, 3, 'other');
  emptyRoot = file('empty-root.json');
  writeFileSync(emptyRoot, JSON.stringify(EMPTY_TRUSTED_ROOT));
  writeFileSync(file('chart-1.0.0.tgz'), 'a Helm chart tarball, as far as this test is concerned\n');
  writeFileSync(file('tampered.tgz'), 'a Helm chart tarball, as far as this test is concerned!\n');
  writeFileSync(file('predicate.json'), JSON.stringify({ builder: 'ci', run: 42 }));
  const offline = ['--tlog-upload=false', '--use-signing-config=false', '--yes'];
  await cosign(['sign-blob', '--key', signer.privateKey, '--bundle', file('chart.sigstore.json'), ...offline, file('chart-1.0.0.tgz')]);
  await cosign(['attest-blob', '--key', signer.privateKey, '--type', 'custom', '--predicate', file('predicate.json'), '--bundle', file('chart.att.sigstore.json'), ...offline, file('chart-1.0.0.tgz')]);
}, 180_000);

afterAll(() => { scratch.remove(); });

const ours = (artifact: string, bundle: string, key: CosignKeyPair, extra: readonly string[] = []) =>
  runSigward(['verify-blob', file(artifact), '--bundle', file(bundle), '--key', key.publicKey, '--insecure-ignore-tlog', ...extra]);
const theirs = (command: 'verify-blob' | 'verify-blob-attestation', artifact: string, bundle: string, key: CosignKeyPair) =>
  cosign([command, '--key', key.publicKey, '--bundle', file(bundle), '--insecure-ignore-tlog=true', '--trusted-root', emptyRoot,
    ...(command === 'verify-blob-attestation' ? ['--type', 'custom'] : []), file(artifact)], false);

describe.each([
  ['a message signature (sign-blob)', 'chart.sigstore.json', 'verify-blob'],
  ['a DSSE statement (attest-blob)', 'chart.att.sigstore.json', 'verify-blob-attestation'],
] as const)('%s', (_name, bundle, command) => {
  it.each([
    ['the right key', 'chart-1.0.0.tgz', 'signer', 0],
    ['a wrong key', 'chart-1.0.0.tgz', 'other', 1],
    ['a tampered artifact (for the statement: another subject)', 'tampered.tgz', 'signer', 1],
  ] as const)('gives cosign\'s verdict for %s', async (_case, artifact, who, expected) => {
    const key = who === 'signer' ? signer : other;
    const [sigward, reference] = await Promise.all([ours(artifact, bundle, key), theirs(command, artifact, bundle, key)]);
    expect(reference.code === 0 ? 0 : 1).toBe(expected);
    expect(`${sigward.code} ${sigward.code === 0 ? '' : sigward.stderr.includes(bundle) ? 'named' : sigward.stderr}`).toBe(expected === 0 ? '0 ' : '1 named');
  }, 60_000);
});

describe('verify-blob', () => {
  it('prints the verified statement with --output json', async () => {
    const result = await ours('chart-1.0.0.tgz', 'chart.att.sigstore.json', signer, ['--output', 'json']);
    expect(result.code).toBe(0);
    const statement = JSON.parse(result.stdout) as { subject: { name: string; digest: { sha256: string } }[]; predicate: { Data?: string } };
    const sha256 = createHash('sha256').update(readFileSync(file('chart-1.0.0.tgz'))).digest('hex');
    expect(statement.subject.map((s) => s.digest.sha256)).toEqual([sha256]);
    // cosign's `custom` type wraps the predicate file as {Data, Timestamp}.
    expect(JSON.parse(statement.predicate.Data ?? 'null')).toEqual({ builder: 'ci', run: 42 });
  });

  it('verifies a statement for an artifact known only by its digest, and refuses that for a message signature', async () => {
    const digest = `sha256:${createHash('sha256').update(readFileSync(file('chart-1.0.0.tgz'))).digest('hex')}`;
    const byDigest = (bundle: string) => runSigward(['verify-blob', digest, '--bundle', file(bundle), '--key', signer.publicKey, '--insecure-ignore-tlog']);
    expect((await byDigest('chart.att.sigstore.json')).code).toBe(0);
    const message = await byDigest('chart.sigstore.json');
    expect(message.code).toBe(1);
    expect(message.stderr).toContain('give the file, not its digest (BUNDLE_UNSUPPORTED)');
  });

  it('requires a transparency-log entry with --key unless --insecure-ignore-tlog, as cosign does', async () => {
    const result = await runSigward(['verify-blob', file('chart-1.0.0.tgz'), '--bundle', file('chart.sigstore.json'), '--key', signer.publicKey]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\(TLOG_MISSING\)|\(TLOG_INVALID\)/);
  });

  it.each([
    [['verify-blob', 'x.tgz', '--key', 'k.pub'], '--bundle FILE is required'],
    [['verify-blob', 'x.tgz', '--bundle', 'b.json'], '--key FILE or a keyless identity'],
    [['verify-blob', 'sha256:abc', '--bundle', 'b.json', '--key', 'k.pub'], 'ARTIFACT: sha256:abc is not sha256:<64 lower-case hex> (nor a file)'],
    [['verify-blob', '/nonexistent.tgz', '--bundle', 'b.json', '--key', 'k.pub'], 'cannot read artifact /nonexistent.tgz'],
  ])('exits 2 for %j', async (args, message) => {
    const result = await runSigward(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
