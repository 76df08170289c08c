{{- define "lab-image-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "lab-image-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "lab-image-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/*
The selector labels of an operator Deployment's pods, given (list root shardKey): the main one's
(shard ""), or a shard's. Disjoint, so no Deployment or PodDisruptionBudget selects another's pods.
*/}}
{{- define "lab-image-operator.operatorSelectorLabels" -}}
{{- $root := index . 0 -}}
{{- $shard := index . 1 -}}
{{- if $shard -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: operator-shard
labimages.io/shard: {{ $shard }}
{{- else -}}
{{- include "lab-image-operator.selectorLabels" $root -}}
{{- end -}}
{{- end -}}

{{/* An operator Deployment's name (and its PodDisruptionBudget's, its metrics Service's prefix), given (list root shardKey). */}}
{{- define "lab-image-operator.operatorName" -}}
{{- $root := index . 0 -}}
{{- $shard := index . 1 -}}
{{- if $shard -}}
{{- printf "%s-%s" (include "lab-image-operator.fullname" $root) $shard | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "lab-image-operator.fullname" $root -}}
{{- end -}}
{{- end -}}

{{/* Every operator pod, the main Deployment's and the shards': for NetworkPolicies. */}}
{{- define "lab-image-operator.allOperatorPods" -}}
matchLabels:
  app.kubernetes.io/name: {{ .Chart.Name }}
  app.kubernetes.io/instance: {{ .Release.Name }}
matchExpressions:
  - {key: app.kubernetes.io/component, operator: In, values: [operator, operator-shard]}
{{- end -}}

{{- define "lab-image-operator.emulatorSelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: emulator
{{- end -}}

{{- define "lab-image-operator.serviceAccountName" -}}
{{- default (include "lab-image-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "lab-image-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "lab-image-operator.emulatorName" -}}
{{- printf "%s-emulator" (include "lab-image-operator.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The standalone emulator's address, as its serving certificate names it. */}}
{{- define "lab-image-operator.emulatorHost" -}}
{{- printf "%s.%s.svc" (include "lab-image-operator.emulatorName" .) .Release.Namespace -}}
{{- end -}}

{{/* The folder of the emulator's state.json, in the operator (embedded) or the emulator's pod (standalone). */}}
{{- define "lab-image-operator.emulatorStateDir" -}}
/var/lib/emulator
{{- end -}}

{{/* The emulator's config document (emulator.config: a map, or a file's text from --set-file), as YAML. */}}
{{- define "lab-image-operator.emulatorConfig" -}}
{{- if kindIs "string" .Values.emulator.config -}}
{{ .Values.emulator.config }}
{{- else -}}
{{ toYaml .Values.emulator.config }}
{{- end -}}
{{- end -}}

{{/* Where the emulator's config is mounted, in the operator (embedded) or the emulator's pod (standalone). */}}
{{- define "lab-image-operator.emulatorConfigDir" -}}
/etc/lab-image-operator/emulator-config
{{- end -}}

{{/* That folder's volume: the Secret holding the config. */}}
{{- define "lab-image-operator.emulatorConfigVolume" -}}
name: emulator-config
secret:
  secretName: {{ include "lab-image-operator.emulatorName" . }}-config
{{- end -}}

{{/* That folder's volume: the chart's PersistentVolumeClaim, or an emptyDir when persistence is off. */}}
{{- define "lab-image-operator.emulatorStateVolume" -}}
name: emulator-state
{{- if .Values.emulator.persistence.enabled }}
persistentVolumeClaim:
  claimName: {{ include "lab-image-operator.emulatorName" . }}-state
{{- else }}
emptyDir:
  sizeLimit: 256Mi
{{- end }}
{{- end -}}

{{/* Pod and container security: non-root, read-only root filesystem, no capabilities (restricted PSS). */}}
{{- define "lab-image-operator.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "lab-image-operator.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}
