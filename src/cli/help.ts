/**
 * `sigward COMMAND --help`: each command's usage, what it does, and one line per flag with its
 * default. Kept apart from the commands so that help loads nothing else; a unit test holds every
 * command's flags and these lines to each other.
 */
import { CHECK_USAGE, REPORT_USAGE, RESOLVE_USAGE, SERVE_USAGE, TRIANGULATE_USAGE, VERIFY_BLOB_USAGE, VERIFY_USAGE } from './usage.js';

export interface FlagHelp {
  readonly flag: string;
  /** The value it takes, when it takes one (`FILE`, `SECONDS`). */
  readonly value?: string;
  readonly text: string;
}

export interface CommandHelp {
  readonly usage: string;
  readonly summary: string;
  readonly flags: readonly FlagHelp[];
}

const REGISTRY: readonly FlagHelp[] = [
  { flag: 'ca-file', value: 'FILE', text: 'extra PEM CA certificates for registries, added to the system roots (repeatable)' },
  { flag: 'insecure-registry', value: 'HOST[:PORT]', text: 'a registry spoken to over plain HTTP (repeatable; test registries only)' },
  { flag: 'registry-config', value: 'FILE', text: 'docker config.json with registry logins and credential helpers (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json; serve runs helpers only of a file named here)' },
  { flag: 'timeout', value: 'SECONDS', text: 'timeout of one registry request (default 10)' },
];

const KUBE: readonly FlagHelp[] = [
  { flag: 'kubeconfig', value: 'FILE', text: 'kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the pod\'s service account)' },
  { flag: 'pull-secret', value: 'NAME', text: 'a registry credential Secret in sigward\'s namespace, used for every review' },
  { flag: 'pull-secrets-across-namespaces', text: 'read each pod\'s and its service account\'s imagePullSecrets (the default)' },
  { flag: 'no-pull-secrets-across-namespaces', text: 'read no Secret outside sigward\'s own namespace' },
  { flag: 'scan-interval', value: 'DURATION', text: 'how often running pods are judged again for the reports (default 10m; 0 turns it off)' },
  { flag: 'report-api', value: 'auto|openreports|wgpolicyk8s', text: 'where audit results are written (default auto: openreports.io if installed, else wgpolicyk8s.io)' },
  { flag: 'exclude-namespace', value: 'NS', text: 'a namespace the webhook excludes, left out of the scan too (repeatable)' },
  { flag: 'exclude-label', value: 'KEY', text: 'namespaces labelled KEY=true are left out of the scan, as the webhook excludes them (default sigward.dev/exclude)' },
  { flag: 'arm-webhooks', value: 'NAME', text: 'once ready, set failurePolicy Fail on the webhook configurations NAME (the chart creates them with Ignore)' },
];

const KEYLESS = [
  { flag: 'certificate-identity', value: 'ID', text: 'keyless: the certificate subject (an email or workflow URI), exactly' },
  { flag: 'certificate-identity-regexp', value: 'RE', text: 'keyless: a regexp the whole subject must match (JavaScript syntax, anchored)' },
  { flag: 'certificate-oidc-issuer', value: 'URL', text: 'keyless: the OIDC issuer, exactly (e.g. https://token.actions.githubusercontent.com)' },
  { flag: 'certificate-oidc-issuer-regexp', value: 'RE', text: 'keyless: a regexp the whole issuer must match (anchored)' },
  { flag: 'trusted-root', value: 'FILE', text: 'the trusted_root.json of the Sigstore instance (default: the public-good root sigward ships)' },
  { flag: 'insecure-ignore-sct', text: 'keyless: do not require an SCT from a CT log of the trusted root' },
] as const;

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  verify: {
    usage: VERIFY_USAGE,
    summary: 'Verifies the cosign signatures of IMAGE against public keys or a keyless (Fulcio) identity, as `cosign verify` does; exit 0 verified, 1 not verified, 2 bad input.',
    flags: [
      { flag: 'key', value: 'FILE', text: 'a PEM public key the signature may verify with (repeatable; or the keyless flags)' },
      ...KEYLESS,
      { flag: 'threshold', value: 'N', text: 'how many of the keys must verify (default 1)' },
      { flag: 'signature-repository', value: 'REPO', text: 'where signatures are stored instead of next to the image (as COSIGN_REPOSITORY)' },
      { flag: 'annotation', value: 'KEY=VALUE', text: 'an annotation the signature must carry with exactly this value (repeatable)' },
      { flag: 'output', value: 'text|json', text: 'what is printed (default text)' },
      ...REGISTRY,
    ],
  },
  'verify-blob': {
    usage: VERIFY_BLOB_USAGE,
    summary: 'Verifies a Sigstore bundle for a file (a release archive, a Helm chart tarball), as `cosign verify-blob --bundle` does; exit 0 verified, 1 not verified, 2 bad input.',
    flags: [
      { flag: 'bundle', value: 'FILE', text: 'the Sigstore bundle (v0.1 to v0.3) of the artifact (required)' },
      { flag: 'key', value: 'FILE', text: 'a PEM public key the bundle must verify with (or the keyless flags)' },
      { flag: 'insecure-ignore-tlog', text: 'with --key: accept a bundle without a transparency-log entry' },
      ...KEYLESS,
      { flag: 'output', value: 'text|json', text: 'json: the verified in-toto statement, or a summary of what was checked (default text)' },
    ],
  },
  triangulate: {
    usage: TRIANGULATE_USAGE,
    summary: 'Prints where cosign stores the signatures (or attestations) of IMAGE: REPO:sha256-<hex>.sig.',
    flags: [{ flag: 'type', value: 'signature|attestation', text: 'which tag (default signature)' }, ...REGISTRY],
  },
  resolve: {
    usage: RESOLVE_USAGE,
    summary: 'Prints the digest IMAGE names now, as REPO@sha256:<hex>.',
    flags: REGISTRY,
  },
  serve: {
    usage: SERVE_USAGE,
    summary: 'Runs the admission webhook (HTTPS): POST /validate and /mutate, GET /healthz and /readyz, metrics on --metrics-port.',
    flags: [
      { flag: 'policy-file', value: 'FILE', text: 'a policy file (repeatable; required unless --watch-crds)' },
      { flag: 'port', value: 'PORT', text: 'webhook port (default 8443)' },
      { flag: 'host', value: 'ADDRESS', text: 'address to listen on (default 0.0.0.0)' },
      { flag: 'tls-cert', value: 'FILE', text: 'serving certificate; without it a self-signed one is made (local use only)' },
      { flag: 'tls-key', value: 'FILE', text: 'its private key (with --tls-cert)' },
      { flag: 'client-ca', value: 'FILE', text: 'answer reviews only for clients with a certificate from this CA (the API server\'s)' },
      { flag: 'metrics-port', value: 'PORT|off', text: 'Prometheus metrics port (default 9090)' },
      { flag: 'no-match', value: 'deny|warn|allow', text: 'the answer for an image no policy covers (default deny)' },
      { flag: 'webhook-timeout', value: 'SECONDS', text: 'the webhook\'s timeoutSeconds: what is unfinished then is decided as failed (default 10, at most 30)' },
      { flag: 'mutate-workloads', text: 'also pin the images of workload templates, not only of pods' },
      { flag: 'watch-crds', text: 'read policies from the cluster\'s custom resources (and write reports)' },
      { flag: 'no-watch-crds', text: 'use policy files only (the default)' },
      { flag: 'log-level', value: 'debug|info|warn|error', text: 'what is logged (default info)' },
      { flag: 'credential-provider-config', value: 'FILE', text: 'the kubelet\'s CredentialProviderConfig: exec plugins (ECR, GCR, ACR) for registry credentials' },
      { flag: 'credential-provider-bin-dir', value: 'DIR', text: 'where those plugins\' binaries are (with --credential-provider-config)' },
      ...REGISTRY,
      ...KUBE,
    ],
  },
  check: {
    usage: CHECK_USAGE,
    summary: 'Decides workload manifests as admission would, without a cluster; exit 0 all admitted, 1 one denied, 2 nothing could be checked.',
    flags: [
      { flag: 'policy-file', value: 'FILE', text: 'a policy file (repeatable; required)' },
      { flag: 'no-match', value: 'deny|warn|allow', text: 'the answer for an image no policy covers (default deny)' },
      ...REGISTRY,
    ],
  },
  report: {
    usage: REPORT_USAGE,
    summary: 'Sums up the policy reports sigward keeps in the cluster: what switching audit policies to enforce would deny.',
    flags: [
      KUBE[0]!,
      { flag: 'namespace', value: 'NS', text: 'one namespace only (default: all)' },
      KUBE.find((f) => f.flag === 'report-api')!,
    ],
  },
};

/** The whole help of a command: usage, what it does, a line per flag. */
export function commandHelp(name: string): string | undefined {
  const help = COMMAND_HELP[name];
  if (help === undefined) return undefined;
  const names = help.flags.map((f) => `--${f.flag}${f.value === undefined ? '' : ` ${f.value}`}`);
  const width = Math.min(40, Math.max(...names.map((n) => n.length)));
  const lines = help.flags.map((f, i) => `  ${names[i]!.padEnd(width)}  ${f.text}`);
  return `usage: ${help.usage}\n\n${help.summary}\n\nflags:\n${lines.join('\n')}`;
}

/** The flag among `known` closest to `unknown`, when it is close enough to be a typo. */
export function closestFlag(unknown: string, known: readonly string[]): string | undefined {
  let best: { flag: string; distance: number } | undefined;
  for (const flag of known) {
    const distance = editDistance(unknown, flag);
    if (best === undefined || distance < best.distance) best = { flag, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(unknown.length / 4)) ? best.flag : undefined;
}

/** Levenshtein distance, for names of a few dozen characters (flags are capped before this). */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
