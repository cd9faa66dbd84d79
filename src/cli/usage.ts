/**
 * Usage lines of every command, apart from the commands so that `--help` loads nothing else.
 * README's "Command line" block holds these lines verbatim (a unit test compares them).
 */
export const VERIFY_USAGE = `sigward verify IMAGE (--key FILE [--key FILE ...] | KEYLESS) [--threshold N] [--signature-repository REPO]
               [--annotation KEY=VALUE ...] [--output text|json] [REGISTRY OPTIONS]
KEYLESS: (--certificate-identity ID | --certificate-identity-regexp RE)
         (--certificate-oidc-issuer URL | --certificate-oidc-issuer-regexp RE) [--trusted-root FILE] [--insecure-ignore-sct]`;
export const VERIFY_BLOB_USAGE = `sigward verify-blob ARTIFACT --bundle FILE (--key FILE [--insecure-ignore-tlog] | KEYLESS) [--trusted-root FILE]
               [--output text|json]     # ARTIFACT: a file, or sha256:<hex> for a DSSE bundle`;
export const TRIANGULATE_USAGE = 'sigward triangulate IMAGE [--type signature|attestation] [REGISTRY OPTIONS]';
export const RESOLVE_USAGE = 'sigward resolve IMAGE [REGISTRY OPTIONS]';
export const SERVE_USAGE = `sigward serve [--policy-file FILE ...] [--port 8443] [--host ADDRESS] [--tls-cert FILE --tls-key FILE] [--client-ca FILE]
              [--metrics-port 9090|off] [--no-match deny|warn|allow] [--webhook-timeout SECONDS]
              [--mutate-workloads] [--watch-crds | --no-watch-crds] [--log-level LEVEL]
              [--credential-provider-config FILE --credential-provider-bin-dir DIR] [REGISTRY OPTIONS]
              with --watch-crds: [--kubeconfig FILE] [--pull-secret NAME]
                                 [--pull-secrets-across-namespaces (default) | --no-pull-secrets-across-namespaces]
                                 [--scan-interval DURATION (10m; 0 = off)] [--report-api auto|openreports|wgpolicyk8s]
                                 [--exclude-namespace NS ...] [--exclude-label KEY (sigward.dev/exclude)] [--arm-webhooks NAME]`;
export const CHECK_USAGE = 'sigward check --policy-file FILE [--policy-file FILE ...] [--no-match deny|warn|allow] MANIFEST.yaml [...] [REGISTRY OPTIONS]';
export const REPORT_USAGE = 'sigward report [--kubeconfig FILE] [--namespace NS] [--report-api auto|openreports|wgpolicyk8s]';
