import { createHash } from 'node:crypto';
import { SigwardError } from '../../errors.js';
import type { SignedContent } from '../content.js';
import { valueAt } from '../fields.js';
import { bytesEqual } from '../keys.js';
import type { TlogEntry } from '../types.js';
import { certificateNamesSigner, keyNamesSigner, pemNamesSigner, type SignerMaterial } from './signer.js';

/** Compares one kind of entry body with the bundle; returns what differs, or undefined. */
type BodyCheck = (spec: unknown, content: SignedContent, signer: SignerMaterial) => string | undefined;

const HASHES: Readonly<Record<string, string>> = {
  sha256: 'sha256', sha384: 'sha384', sha512: 'sha512',
  SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512',
};

const SIGNED_BYTES = 'its hash is not the hash of the signed bytes';
const PAYLOAD = 'its payload hash is not the hash of the DSSE payload';
const SIGNATURE = 'its signature is not the bundle\'s signature';
const SIGNER = 'it names another key or certificate';
const NOT_DSSE = 'it records a DSSE envelope, the bundle signs a message';

/** Entry kinds and versions as Rekor v1 (JSON with base64 PEM) and Rekor v2 (protobuf JSON) write them. */
const CHECKS: Readonly<Record<string, BodyCheck>> = {
  'hashedrekord/0.0.1': (spec, content, signer) => firstFailure([
    [hexHashOf(valueAt(spec, 'data', 'hash'), content.bytes), SIGNED_BYTES],
    [sameBytes(valueAt(spec, 'signature', 'content'), content.signature), SIGNATURE],
    [pemOf(valueAt(spec, 'signature', 'publicKey', 'content'), signer), SIGNER],
  ]),
  // Rekor v2 logs a DSSE envelope as a hashedrekord over its PAE (rekor-v2 spec §6.1.4).
  'hashedrekord/0.0.2': (spec, content, signer) => firstFailure([
    [digestOf(valueAt(spec, 'hashedRekordV002', 'data'), content.bytes), SIGNED_BYTES],
    [sameBytes(valueAt(spec, 'hashedRekordV002', 'signature', 'content'), content.signature), SIGNATURE],
    [derOf(valueAt(spec, 'hashedRekordV002', 'signature', 'verifier'), signer), SIGNER],
  ]),
  'dsse/0.0.1': (spec, content, signer) => {
    if (content.dssePayload === undefined) return NOT_DSSE;
    const signature = onlySignature(valueAt(spec, 'signatures'));
    return firstFailure([
      [hexHashOf(valueAt(spec, 'payloadHash'), content.dssePayload), PAYLOAD],
      [sameBytes(valueAt(signature, 'signature'), content.signature), SIGNATURE],
      [pemOf(valueAt(signature, 'verifier'), signer), SIGNER],
    ]);
  },
  'dsse/0.0.2': (spec, content, signer) => {
    if (content.dssePayload === undefined) return NOT_DSSE;
    const signature = onlySignature(valueAt(spec, 'dsseV002', 'signatures'));
    return firstFailure([
      [digestOf(valueAt(spec, 'dsseV002', 'payloadHash'), content.dssePayload), PAYLOAD],
      [sameBytes(valueAt(signature, 'content'), content.signature), SIGNATURE],
      [derOf(valueAt(signature, 'verifier'), signer), SIGNER],
    ]);
  },
  'intoto/0.0.2': (spec, content, signer) => {
    if (content.dssePayload === undefined) return NOT_DSSE;
    const signature = onlySignature(valueAt(spec, 'content', 'envelope', 'signatures'));
    const sig = valueAt(signature, 'sig');
    return firstFailure([
      [hexHashOf(valueAt(spec, 'content', 'payloadHash'), content.dssePayload), PAYLOAD],
      // intoto entries hold the envelope's base64 signature base64-encoded once more.
      [typeof sig === 'string' && sameBytes(Buffer.from(sig, 'base64').toString('latin1'), content.signature), SIGNATURE],
      [pemOf(valueAt(signature, 'publicKey'), signer), SIGNER],
    ]);
  },
  // Cosign before hashedrekord (2021) logged image signatures as rekord entries.
  'rekord/0.0.1': (spec, content, signer) => {
    if (content.dssePayload !== undefined) return 'it records a signed message, the bundle holds a DSSE envelope';
    return firstFailure([
      [hexHashOf(valueAt(spec, 'data', 'hash'), content.bytes), SIGNED_BYTES],
      [sameBytes(valueAt(spec, 'signature', 'content'), content.signature), SIGNATURE],
      [pemOf(valueAt(spec, 'signature', 'publicKey', 'content'), signer), SIGNER],
    ]);
  },
};

/**
 * Checks that a log entry records this very signature (cosign `VerifyBundle`: same signature,
 * same signed digest, same key or certificate). Without it, a genuine entry for some other
 * signature could stand in for a signature that was never logged.
 */
export function verifyEntryBody(entry: TlogEntry, index: number, content: SignedContent, signer: SignerMaterial): void {
  const where = `tlogEntries[${index}] (log index ${entry.logIndex})`;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry.body));
  } catch {
    throw mismatch(where, 'its body is not JSON');
  }
  if (valueAt(body, 'kind') !== entry.kind || valueAt(body, 'apiVersion') !== entry.version) {
    throw mismatch(where, `its body is not a ${entry.kind} ${entry.version} entry, as the bundle says`);
  }
  const check = CHECKS[`${entry.kind}/${entry.version}`];
  if (check === undefined) throw mismatch(where, `entry kind ${entry.kind} ${entry.version} is not one sigward reads`);
  const problem = check(valueAt(body, 'spec'), content, signer);
  if (problem !== undefined) throw mismatch(where, problem);
}

/** `{algorithm, value: hex}` (Rekor v1). */
function hexHashOf(hash: unknown, data: Uint8Array): boolean {
  const value = valueAt(hash, 'value');
  const algorithm = HASHES[String(valueAt(hash, 'algorithm'))];
  return algorithm !== undefined && typeof value === 'string' && value === createHash(algorithm).update(data).digest('hex');
}

/** `{algorithm, digest: base64}` (Rekor v2). */
function digestOf(hash: unknown, data: Uint8Array): boolean {
  const algorithm = HASHES[String(valueAt(hash, 'algorithm'))];
  return algorithm !== undefined && sameBytes(valueAt(hash, 'digest'), new Uint8Array(createHash(algorithm).update(data).digest()));
}

function firstFailure(checks: readonly (readonly [boolean, string])[]): string | undefined {
  return checks.find(([passed]) => !passed)?.[1];
}

function sameBytes(base64: unknown, expected: Uint8Array): boolean {
  return typeof base64 === 'string' && bytesEqual(new Uint8Array(Buffer.from(base64, 'base64')), expected);
}

function onlySignature(signatures: unknown): unknown {
  return Array.isArray(signatures) && signatures.length === 1 ? signatures[0] : undefined;
}

/** Base64 of PEM text (Rekor v1). */
function pemOf(base64: unknown, signer: SignerMaterial): boolean {
  return typeof base64 === 'string' && pemNamesSigner(Buffer.from(base64, 'base64').toString('utf8'), signer);
}

/** `{x509Certificate: {rawBytes}}` or `{publicKey: {rawBytes}}` (Rekor v2). */
function derOf(verifier: unknown, signer: SignerMaterial): boolean {
  const certificate = valueAt(verifier, 'x509Certificate', 'rawBytes');
  if (typeof certificate === 'string') return certificateNamesSigner(new Uint8Array(Buffer.from(certificate, 'base64')), signer);
  const key = valueAt(verifier, 'publicKey', 'rawBytes');
  return typeof key === 'string' && keyNamesSigner(new Uint8Array(Buffer.from(key, 'base64')), signer);
}

function mismatch(where: string, what: string): SigwardError {
  return new SigwardError('TLOG_ENTRY_MISMATCH', `${where}: the log entry is not for this signature: ${what}`);
}
