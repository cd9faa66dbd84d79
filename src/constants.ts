/** Protocol strings: media types, annotation keys, headers. The one place they are spelled. */

export const MEDIA_TYPE = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  sigstoreBundlePrefix: 'application/vnd.dev.sigstore.bundle',
  sigstoreBundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  inToto: 'application/vnd.in-toto+json',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
} as const;

/** Accept list for resolving a reference: index types first so a multi-arch image resolves to
 * its index digest (the digest signers sign), never to a down-converted platform manifest. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.dockerManifestList,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifest,
] as const;

export const ANNOTATION = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  rekorBundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
  bundleContent: 'dev.sigstore.bundle.content',
  bundlePredicateType: 'dev.sigstore.bundle.predicateType',
} as const;

export const COSIGN = {
  signatureType: 'cosign container image signature',
  signatureTagSuffix: 'sig',
  attestationTagSuffix: 'att',
  signPredicateType: 'https://sigstore.dev/cosign/sign/v1',
  /** cosign reads at most this many layers of a signature manifest. */
  maxLayers: 1000,
} as const;

export const HEADER = {
  contentDigest: 'docker-content-digest',
  wwwAuthenticate: 'www-authenticate',
  retryAfter: 'retry-after',
  ociSubject: 'oci-subject',
} as const;

export const DOCKER_HUB = {
  /** The canonical registry name of Docker Hub in normalized references. */
  domain: 'docker.io',
  aliases: ['index.docker.io', 'registry-1.docker.io'],
  /** The host that serves the distribution API for Docker Hub. */
  apiHost: 'registry-1.docker.io',
  officialNamespace: 'library',
} as const;

export const POLICY_API = {
  group: 'sigward.dev',
  version: 'v1alpha1',
  apiVersion: 'sigward.dev/v1alpha1',
  clusterKind: 'ClusterImagePolicy',
  namespacedKind: 'ImagePolicy',
} as const;
