/**
 * Where registry credentials come from. For one registry request they are tried in this order
 * (docs/design.md §4, as the kubelet pulls):
 *   1. an authority's `signaturePullSecrets`, for its signatures only (policy/pull-secrets.ts);
 *   2. the pod's `imagePullSecrets`, its service account's, then `--pull-secret` (read by
 *      kube/pull-secrets.ts with the rules of pull-secrets.ts; their fingerprints make the scope
 *      that keeps what they learn apart in the caches);
 *   3. kubelet credential provider plugins (kubelet-plugins.ts);
 *   4. the docker config, with its credential helpers where they may run (docker-config.ts).
 * The registry client takes 1–2 per request and 3–4 as its own; a source that cannot answer
 * throws CREDENTIALS_UNAVAILABLE and the next one is asked.
 */
export { credentialsFromDockerConfigJson, defaultDockerConfigPath, loadDockerConfig, parseDockerConfig, type LoadedDockerConfig } from './docker-config.js';
export { readCredentialProviderConfig, parseGoDuration, type PluginSettings } from './kubelet-config.js';
export { imageMatches, parseImagePattern } from './kubelet-match.js';
export { KubeletPlugins, type KubeletPluginOptions } from './kubelet-plugins.js';
export { configCredential, firstOf, podPullSecrets, pullSecretCredential, PULL_SECRET_TYPES, scopeOf, type PullCredential } from './pull-secrets.js';
export type { Credential, CredentialProvider, CredentialQuery, StaticCredentials } from './types.js';
