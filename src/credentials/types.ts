/** Registry credentials. `source` names where they came from (a file path, a Secret, a plugin)
 * for error messages; the secret itself is never printed. */
export type Credential =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string; readonly source: string }
  | { readonly kind: 'token'; readonly identityToken: string; readonly source: string };

/** What a lookup is for: the repository a registry call reads, and the caller's signal. */
export interface CredentialQuery {
  readonly repository: string;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Looks up the credential for a registry host (as in `Repository.registry`). A static source (a
 * docker config, a pull Secret) answers at once; a program (a credential helper, a kubelet
 * plugin) answers later. A source that cannot answer throws CREDENTIALS_UNAVAILABLE naming
 * itself and the registry; the caller goes on with the next source.
 */
export type CredentialProvider = (registry: string, query?: CredentialQuery) => Credential | undefined | Promise<Credential | undefined>;

/** A source that answers at once. */
export type StaticCredentials = (registry: string) => Credential | undefined;
