/** A repository in a registry, normalized: lower-case host, Docker Hub as `docker.io`, `library/` added. */
export interface Repository {
  /** Registry host with optional port: `docker.io`, `quay.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Path inside the registry: `library/nginx`, `acme/app`. */
  readonly repository: string;
  /** `registry/repository`, the string globs are matched against. */
  readonly name: string;
}

/** A parsed image reference. At least one of tag and digest is set (tag defaults to `latest`). */
export interface ImageReference extends Repository {
  readonly tag: string | undefined;
  /** `algorithm:hex`, exactly as written (validated). */
  readonly digest: string | undefined;
  /** The string the reference was parsed from. */
  readonly original: string;
}
