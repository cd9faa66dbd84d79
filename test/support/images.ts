/**
 * Pushes test images with plain distribution-API requests: blob upload as POST then PUT with
 * `Content-Type: application/octet-stream` (distribution parses any other body type as a form
 * and reports DIGEST_INVALID; a monolithic POST with a body stores nothing), then the manifest.
 * Every image gets a random layer, so no two tests share a digest by accident.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MANIFEST_ACCEPT, MEDIA_TYPE } from '../../src/constants.js';
import { expectStatus, registryFetch, type RegistryEndpoint } from './http.js';

export interface PushedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly manifestBytes: Uint8Array;
  readonly platform?: { readonly os: string; readonly architecture: string };
}

const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A ustar archive holding one regular file (enough for a layer any tool can unpack). */
function tarWithOneFile(name: string, content: Uint8Array): Uint8Array {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

/** Uploads a blob unless the registry has it (HEAD first, then POST + PUT). */
export async function pushBlob(reg: RegistryEndpoint, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  const head = await registryFetch(reg, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return digest;
  const start = await expectStatus(
    await registryFetch(reg, `/v2/${repo}/blobs/uploads/`, { method: 'POST' }),
    202,
    `start upload to ${repo}`,
  );
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (location === null) throw new Error(`upload to ${repo}: no Location header`);
  const target = new URL(location, `${reg.scheme}://${reg.host}`);
  target.searchParams.set('digest', digest);
  const put = await expectStatus(
    await registryFetch(reg, target.toString(), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    }),
    201,
    `finish upload of ${digest} to ${repo}`,
  );
  await put.body?.cancel();
  return digest;
}

/** PUTs manifest bytes under a tag or digest and returns the digest the registry reports. */
export async function pushManifest(reg: RegistryEndpoint, repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
  const response = await expectStatus(
    await registryFetch(reg, `/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: bytes,
    }),
    201,
    `push manifest ${repo}:${reference}`,
  );
  await response.body?.cancel();
  const digest = sha256Digest(bytes);
  const reported = response.headers.get('docker-content-digest');
  if (reported !== null && reported !== digest) throw new Error(`registry reported ${reported} for manifest ${digest}`);
  return digest;
}

/** Pushes a single-platform OCI image with one random layer and tags it. */
export async function pushRandomImage(
  reg: RegistryEndpoint,
  repo: string,
  tag: string,
  platform: { os: string; architecture: string } = { os: 'linux', architecture: 'amd64' },
): Promise<PushedManifest> {
  const tar = tarWithOneFile('random.bin', randomBytes(64));
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      config: {},
      rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    }),
  );
  const configDigest = await pushBlob(reg, repo, config);
  const layerDigest = await pushBlob(reg, repo, layer);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: configDigest, size: config.length },
    layers: [{ mediaType: LAYER_MEDIA_TYPE, digest: layerDigest, size: layer.length }],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const digest = await pushManifest(reg, repo, tag, manifestBytes, MEDIA_TYPE.ociManifest);
  return { digest, mediaType: MEDIA_TYPE.ociManifest, manifestBytes, platform };
}

/** Pushes an OCI index over already pushed manifests (a multi-arch image) and tags it. */
export async function pushIndex(reg: RegistryEndpoint, repo: string, tag: string, manifests: readonly PushedManifest[]): Promise<PushedManifest> {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociIndex,
    manifests: manifests.map((m) => ({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.manifestBytes.length,
      ...(m.platform === undefined ? {} : { platform: m.platform }),
    })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(index));
  const digest = await pushManifest(reg, repo, tag, manifestBytes, MEDIA_TYPE.ociIndex);
  return { digest, mediaType: MEDIA_TYPE.ociIndex, manifestBytes };
}

/** GETs a manifest (by tag or digest) with every image media type accepted; undefined on 404. */
export async function getManifest(reg: RegistryEndpoint, repo: string, reference: string): Promise<{ bytes: Uint8Array; mediaType: string; digest: string } | undefined> {
  const response = await registryFetch(reg, `/v2/${repo}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT.join(', ') } });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  await expectStatus(response, 200, `get manifest ${repo}:${reference}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  return { bytes, mediaType, digest: sha256Digest(bytes) };
}

/** Points `tag` at the manifest stored under `fromDigest` (moves the tag when it exists). */
export async function retag(reg: RegistryEndpoint, repo: string, fromDigest: string, tag: string): Promise<void> {
  const manifest = await getManifest(reg, repo, fromDigest);
  if (manifest === undefined) throw new Error(`retag: ${repo}@${fromDigest} not found`);
  await pushManifest(reg, repo, tag, manifest.bytes, manifest.mediaType);
}

/** The tags of a repository (empty when the repository does not exist). */
export async function listTags(reg: RegistryEndpoint, repo: string): Promise<string[]> {
  const response = await registryFetch(reg, `/v2/${repo}/tags/list`);
  if (response.status === 404) {
    await response.body?.cancel();
    return [];
  }
  await expectStatus(response, 200, `list tags of ${repo}`);
  const body = (await response.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}
