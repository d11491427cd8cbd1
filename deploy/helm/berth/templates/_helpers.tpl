{{/* Names and labels. */}}
{{- define "berth.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "berth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "berth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "berth.secretName" -}}
{{- default (include "berth.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/*
The checks that stop a broken installation at `helm install` time. Several replicas need what they can share:
PostgreSQL, S3 and one secret key. SQLite and blobs on a volume serve one replica.
*/}}
{{- define "berth.validate" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if not (has .Values.storage.kind (list "filesystem" "s3")) -}}
{{- fail (printf "storage.kind must be \"filesystem\" or \"s3\", not %q" .Values.storage.kind) -}}
{{- end -}}
{{- if gt $replicas 1 -}}
{{- if .Values.persistence.enabled -}}
{{- fail (printf "replicaCount is %d, but persistence.enabled=true keeps SQLite and the blobs on one ReadWriteOnce volume, which serves one replica only. For several replicas set persistence.enabled=false, database.url (PostgreSQL), storage.kind=s3 and secretKey: see values-ha.yaml." $replicas) -}}
{{- end -}}
{{- if ne .Values.storage.kind "s3" -}}
{{- fail (printf "replicaCount is %d, but storage.kind=%q: blobs on a pod's filesystem are not shared between replicas. Set storage.kind=s3 and storage.s3.* (see values-ha.yaml), or replicaCount=1." $replicas .Values.storage.kind) -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not (hasPrefix "postgres" .Values.database.url)) -}}
{{- fail (printf "replicaCount is %d, but database.url is not a postgres:// URL: SQLite serves one replica only. Set database.url (or BERTH_DATABASE_URL in existingSecret)." $replicas) -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.secretKey) -}}
{{- fail (printf "replicaCount is %d: set secretKey (64 hex digits, `openssl rand -hex 32`), the same for every replica (or BERTH_SECRET_KEY in existingSecret)." $replicas) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.secretKey (not (regexMatch "^[0-9a-fA-F]{64}$" .Values.secretKey)) -}}
{{- fail "secretKey must be 64 hex digits (`openssl rand -hex 32`)" -}}
{{- end -}}
{{- if and (eq .Values.storage.kind "s3") (or (not .Values.storage.s3.endpoint) (not .Values.storage.s3.bucket)) -}}
{{- fail "storage.kind=s3 needs storage.s3.endpoint and storage.s3.bucket" -}}
{{- end -}}
{{- end -}}
