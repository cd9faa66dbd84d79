/**
 * The image reference grammar of docker/distribution (reference.go), one expression per
 * production, so each part of a reference is checked against exactly what registries and
 * container runtimes accept. Every expression is anchored; inputs are length-checked before
 * they reach these, so no expression sees more than a few hundred characters.
 */

// path-component := [a-z0-9]+ (separator [a-z0-9]+)* ; separator := [_.] | __ | [-]+
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;

/** A repository path: one or more path components joined by `/`. */
export const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';

/** A DNS-style host name or a dotted IPv4 address (no trailing dot, no underscore). */
export const DOMAIN_NAME = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*$`);

/** An IPv6 address in brackets. Zone identifiers (`%eth0`) and embedded IPv4 are excluded,
 * as distribution excludes them. */
export const IPV6_ADDRESS = /^\[[a-fA-F0-9:]+\]$/;

/** A port: decimal digits. Five at most, so `:000443` cannot pose as another endpoint. */
export const PORT = /^[0-9]{1,5}$/;

/** tag := [\w][\w.-]{0,127} */
export const TAG = /^\w[\w.-]{0,127}$/;

/** digest-algorithm := component ([+._-] component)* ; component := [A-Za-z][A-Za-z0-9]* */
export const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*$/;

/** The encoded part of a digest, as the OCI image spec allows it for any algorithm. */
export const DIGEST_ENCODED = /^[a-zA-Z0-9=_-]+$/;

/** A bare 64-hex string is an image ID; distribution refuses it as a repository name. */
export const IMAGE_ID = /^[a-f0-9]{64}$/;

/** Longest repository name (`registry/path`), as distribution and most registries enforce. */
export const MAX_NAME_LENGTH = 255;

/**
 * Longest name part considered at all. A name can shrink in normalization (an alias host,
 * a dropped `:443`) but never by this much, so anything longer is too long without running
 * an expression over it.
 */
export const MAX_WRITTEN_NAME_LENGTH = 2 * MAX_NAME_LENGTH;

/** Longest digest considered (`sha256:` + 64 hex is 71; sha512 is 135). */
export const MAX_DIGEST_LENGTH = 256;
