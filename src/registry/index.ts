/** sigward's OCI distribution client: the only module that speaks HTTP. */
export { RegistryClient } from './client.js';
export { apiHost } from './host.js';
export { parseChallenges, type Challenge } from './challenge.js';
export type {
  Credential,
  CredentialProvider,
  Descriptor,
  Manifest,
  Registry,
  RegistryClientOptions,
  RegistryEvent,
  RequestOptions,
} from './types.js';
