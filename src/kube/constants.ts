/** Kubernetes protocol strings of the cluster side: API groups, plurals, reasons, field names. */

export const POLICY_RESOURCES = {
  group: 'sigward.dev',
  version: 'v1alpha1',
  cluster: { kind: 'ClusterImagePolicy', plural: 'clusterimagepolicies' },
  namespaced: { kind: 'ImagePolicy', plural: 'imagepolicies' },
  exemption: { kind: 'ImageExemption', plural: 'imageexemptions' },
} as const;

/** The Ready condition sigward writes into each policy's status. */
export const READY = {
  type: 'Ready',
  compiled: 'Compiled',
  invalid: 'InvalidPolicy',
  /** In force, but an authority's key Secret is gone or holds no key: that authority fails. */
  revoked: 'AuthorityRevoked',
  /** Longest message written (the CRD allows 32 768 characters). */
  maxMessage: 8192,
} as const;

/** The two policy report APIs, in the order they are preferred. */
export const REPORT_APIS = {
  openreports: { group: 'openreports.io', version: 'v1alpha1', kind: 'Report', plural: 'reports' },
  wgpolicyk8s: { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'PolicyReport', plural: 'policyreports' },
} as const;

export const REPORT = {
  /** One report per namespace, named so. */
  name: 'sigward',
  source: 'sigward',
  category: 'image-signature',
  /** A report stays well under etcd's object size limit. */
  maxResults: 1000,
  labels: { 'app.kubernetes.io/managed-by': 'sigward' },
} as const;

export const EVENT = {
  controller: 'sigward.dev/sigward',
  action: 'VerifyImage',
  failed: 'ImageVerificationFailed',
  warned: 'ImageVerificationWarning',
  exempted: 'ImageExempted',
  maxNote: 1024,
} as const;

/** The namespaces the webhook never sees (docs/design.md §4 security invariants): not scanned either. */
export const SYSTEM_NAMESPACES = ['kube-system'] as const;
