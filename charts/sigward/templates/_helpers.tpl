{{/* Names, labels and values that more than one template needs. */}}

{{- define "sigward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full name: the release name, with the chart name appended unless the release name already holds it. */}}
{{- define "sigward.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sigward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sigward.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sigward.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sigward.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sigward
{{- end -}}

{{- define "sigward.serviceAccountName" -}}
{{- default (include "sigward.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "sigward.tlsSecretName" -}}
{{- printf "%s-tls" (include "sigward.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The image reference: repository@digest when a digest is pinned (the tag is then ignored), else repository:tag. */}}
{{- define "sigward.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The DNS names the API server may use for the Service; the serving certificate must carry all of them. */}}
{{- define "sigward.serviceDnsNames" -}}
{{- $svc := include "sigward.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson -}}
{{- end -}}

{{/* Namespaces never sent to sigward: kube-system and sigward's own namespace always (a restart of either
     must not wait for sigward), then the ones the values add. */}}
{{- define "sigward.excludedNamespaces" -}}
{{- $names := list "kube-system" .Release.Namespace -}}
{{- range .Values.webhook.excludeNamespaces -}}
{{- $names = append $names . -}}
{{- end -}}
{{- $names | uniq | toJson -}}
{{- end -}}

{{/* The namespaceSelector of both webhooks. */}}
{{- define "sigward.webhookNamespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ include "sigward.excludedNamespaces" . }}
    - key: {{ .Values.webhook.excludeLabel | quote }}
      operator: NotIn
      values: ["true"]
{{- end -}}

{{/* The TLS material as base64 fields caCert, cert, key. Sources, first match wins: the PEMs in values;
     the Secret an earlier release left (so the caBundle and the certificate stay stable across upgrades);
     a CA and a serving certificate generated now. Call it once per render: generation is random. */}}
{{- define "sigward.tlsMaterial" -}}
{{- $secretName := include "sigward.tlsSecretName" . -}}
{{- if .Values.tls.certificate -}}
caCert: {{ .Values.tls.caCertificate | b64enc }}
cert: {{ .Values.tls.certificate | b64enc }}
key: {{ .Values.tls.key | b64enc }}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $secretName -}}
{{- $data := dict -}}
{{- if $existing -}}
{{- $data = default (dict) $existing.data -}}
{{- end -}}
{{- if and (index $data "ca.crt") (index $data "tls.crt") (index $data "tls.key") -}}
caCert: {{ index $data "ca.crt" }}
cert: {{ index $data "tls.crt" }}
key: {{ index $data "tls.key" }}
{{- else -}}
{{- $fullname := include "sigward.fullname" . -}}
{{- $days := int .Values.tls.validityDays -}}
{{- $ca := genCA (printf "%s-ca" $fullname) $days -}}
{{- $dnsNames := include "sigward.serviceDnsNames" . | fromJsonArray -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $fullname .Release.Namespace) nil $dnsNames $days $ca -}}
caCert: {{ $ca.Cert | b64enc }}
cert: {{ $cert.Cert | b64enc }}
key: {{ $cert.Key | b64enc }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Settings that no single value can check: refuse them with a message naming the values. */}}
{{- define "sigward.validate" -}}
{{- $tls := .Values.tls -}}
{{- if and .Values.certManager.enabled (or $tls.caCertificate $tls.certificate $tls.key) -}}
{{- fail "tls.caCertificate/tls.certificate/tls.key and certManager.enabled are exclusive: choose one source of the webhook certificate" -}}
{{- end -}}
{{- $plugins := .Values.credentialProviders -}}
{{- if and $plugins.providers (not $plugins.image) (not $plugins.volume) -}}
{{- fail "credentialProviders.providers needs the plugin binaries: set credentialProviders.image (with copyCommand) or credentialProviders.volume" -}}
{{- end -}}
{{- if and $plugins.image $plugins.volume -}}
{{- fail "credentialProviders.image and credentialProviders.volume are exclusive: choose one source of the plugin binaries" -}}
{{- end -}}
{{- if and $plugins.image (not $plugins.copyCommand) -}}
{{- fail "credentialProviders.image needs credentialProviders.copyCommand, which copies the binaries into /credential-providers" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicas)) -}}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below replicas (%d), or no node holding a sigward pod could ever be drained" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicas)) -}}
{{- end -}}
{{- end -}}

{{/* Annotations of the webhook configurations: with cert-manager, its CA injector fills the caBundle. */}}
{{- define "sigward.webhookAnnotations" -}}
{{- if .root.Values.certManager.enabled -}}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .root.Release.Namespace (include "sigward.tlsSecretName" .root) }}
{{- end -}}
{{- end -}}

{{/* What both webhooks share: where to call, how long to wait, what to do on failure, which namespaces. */}}
{{- define "sigward.webhookCommon" -}}
admissionReviewVersions: [v1]
clientConfig:
  service:
    name: {{ .fullname }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: {{ .root.Values.service.port }}
  {{- if not .root.Values.certManager.enabled }}
  caBundle: {{ .tls.caCert }}
  {{- end }}
failurePolicy: {{ include "sigward.failurePolicy" .root }}
matchPolicy: Equivalent
sideEffects: None
timeoutSeconds: {{ .root.Values.webhook.timeoutSeconds }}
{{ include "sigward.webhookNamespaceSelector" .root }}
{{- end -}}

{{/*
The failurePolicy the webhooks are rendered with. `webhook.failurePolicy: Fail` means: created with
Ignore, so that pods can be created before any sigward replica is ready, and set to Fail by sigward
itself once a replica is (`serve --arm-webhooks`). An upgrade keeps what is in the cluster once armed,
so it reopens no window. `Ignore` stays Ignore.
*/}}
{{- define "sigward.failurePolicy" -}}
{{- if eq .Values.webhook.failurePolicy "Fail" -}}
{{- $existing := lookup "admissionregistration.k8s.io/v1" "ValidatingWebhookConfiguration" "" (include "sigward.fullname" .) -}}
{{- $webhooks := dig "webhooks" (list) $existing -}}
{{- if and $webhooks (eq (dig "failurePolicy" "" (first $webhooks)) "Fail") -}}Fail{{- else -}}Ignore{{- end -}}
{{- else -}}Ignore{{- end -}}
{{- end -}}
