/**
 * Where registry credentials come from, besides a review's own pull secrets (kube/): docker
 * config files and their credential helpers, and kubelet credential provider plugins. The
 * registry client tries a call's own credentials first, then these, in the order given.
 */
export { credentialsFromDockerConfigJson, defaultDockerConfigPath, loadDockerConfig, parseDockerConfig, type LoadedDockerConfig } from './docker-config.js';
export { readCredentialProviderConfig, parseGoDuration, type PluginSettings } from './kubelet-config.js';
export { imageMatches, parseImagePattern } from './kubelet-match.js';
export { KubeletPlugins, type KubeletPluginOptions } from './kubelet-plugins.js';
export type { Credential, CredentialProvider, CredentialQuery, StaticCredentials } from './types.js';
