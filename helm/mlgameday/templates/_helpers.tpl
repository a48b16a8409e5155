{{/* Names, labels and the pieces every service pod shares. */}}

{{- define "mlgameday.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mlgameday.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of one component: (dict "root" $ "component" "kafka") */}}
{{- define "mlgameday.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: mlgameday
{{ include "mlgameday.selectorLabels" . }}
{{- end }}

{{/* The labels a Service, a NetworkPolicy and `gameday k8s` select a component's pods by. */}}
{{- define "mlgameday.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlgameday.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "mlgameday.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "mlgameday.kafkaHeadless" -}}
{{ include "mlgameday.fullname" . }}-kafka-headless
{{- end }}

{{- define "mlgameday.kafkaBootstrap" -}}
{{- if .Values.kafka.enabled }}
{{- include "mlgameday.fullname" . }}-kafka:9092
{{- else }}
{{- required "kafka.external.bootstrap is required when kafka.enabled is false (host:port[,host:port])" .Values.kafka.external.bootstrap }}
{{- end }}
{{- end }}

{{- define "mlgameday.replicationFactor" -}}
{{- if gt (int .Values.kafka.replicationFactor) 0 }}
{{- .Values.kafka.replicationFactor }}
{{- else if .Values.kafka.enabled }}
{{- min (int .Values.kafka.replicas) 3 }}
{{- else }}
{{- 3 }}
{{- end }}
{{- end }}

{{- define "mlgameday.redisUrl" -}}
redis://{{ include "mlgameday.fullname" . }}-redis:6379/0
{{- end }}

{{/* Environment of a service container: (dict "root" $ "component" "ingest" "port" 8080 "extra" .Values.ingest.env) */}}
{{- define "mlgameday.serviceEnv" -}}
{{- $root := .root }}
- name: GAMEDAY_RUN_DIR
  value: {{ $root.Values.runDir.path | quote }}
{{- with $root.Values.admin.existingSecret }}
- name: GAMEDAY_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $root.Values.admin.tokenKey }}
{{- end }}
- name: GAMEDAY_KAFKA__MODE
  value: external
- name: GAMEDAY_KAFKA__BOOTSTRAP
  value: {{ include "mlgameday.kafkaBootstrap" $root | quote }}
- name: GAMEDAY_KAFKA__PARTITIONS
  value: {{ $root.Values.kafka.partitions | quote }}
{{- if $root.Values.redis.enabled }}
- name: GAMEDAY_ONLINE_STORE
  value: redis
- name: GAMEDAY_REDIS__URL
  value: {{ include "mlgameday.redisUrl" $root | quote }}
{{- else }}
- name: GAMEDAY_ONLINE_STORE
  value: sqlite
{{- end }}
{{- if $root.Values.kafka.auth.existingSecret }}
- name: GAMEDAY_KAFKA__CLIENT_PROPERTIES
  value: /etc/gameday/kafka-auth/{{ $root.Values.kafka.auth.clientPropertiesKey }}
{{- end }}
{{- if .port }}
- name: GAMEDAY_{{ upper .component }}__PORT
  value: {{ .port | quote }}
# Listen on the pod's address (the services default to loopback): probes and peers reach it.
- name: GAMEDAY_{{ upper .component }}__HOST
  value: 0.0.0.0
{{- end }}
# The Feast definitions: the chart's copy of feature_repo/ (a ConfigMap, serviceVolumeMounts).
- name: GAMEDAY_FEATURES__REPO_PATH
  value: /app/feature_repo
# BentoML's model store on the shared run folder: the trainer writes models, serving reads them.
- name: BENTOML_HOME
  value: {{ printf "%s/bentoml" $root.Values.runDir.path | quote }}
- name: HOME
  value: /tmp
{{- range $key, $value := .extra }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* Volumes of a service pod: the run folder, /tmp, the Feast repo, the Kafka client Secret. */}}
{{- define "mlgameday.serviceVolumes" -}}
- name: run-dir
{{- if .Values.runDir.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "mlgameday.fullname" . }}-run
{{- else }}
  emptyDir: {}
{{- end }}
- name: tmp
  emptyDir: {}
- name: feature-repo
  configMap:
    name: {{ include "mlgameday.fullname" . }}-feature-repo
{{- if .Values.kafka.auth.existingSecret }}
- name: kafka-auth
  secret:
    secretName: {{ .Values.kafka.auth.existingSecret }}
{{- end }}
{{- end }}

{{- define "mlgameday.serviceVolumeMounts" -}}
- name: run-dir
  mountPath: {{ .Values.runDir.path }}
- name: tmp
  mountPath: /tmp
- name: feature-repo
  mountPath: /app/feature_repo
  readOnly: true
{{- if .Values.kafka.auth.existingSecret }}
- name: kafka-auth
  mountPath: /etc/gameday/kafka-auth
  readOnly: true
{{- end }}
{{- end }}

{{- define "mlgameday.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Liveness and readiness on HTTP paths: (dict "root" $ "port" "admin" "live" "/healthz" "ready" "/ready") */}}
{{- define "mlgameday.httpProbes" -}}
{{- $p := .root.Values.probes }}
startupProbe:
  httpGet: {path: {{ .live }}, port: {{ .port }}}
  periodSeconds: 5
  failureThreshold: {{ div (int $p.startupSeconds) 5 }}
livenessProbe:
  httpGet: {path: {{ .live }}, port: {{ .port }}}
  periodSeconds: {{ $p.periodSeconds }}
  failureThreshold: {{ $p.failureThreshold }}
  timeoutSeconds: 3
readinessProbe:
  httpGet: {path: {{ .ready }}, port: {{ .port }}}
  periodSeconds: {{ $p.periodSeconds }}
  failureThreshold: 3
  timeoutSeconds: 3
{{- end }}

{{/*
A pipeline service with an admin port (producer, ingest, monitor, riders): Deployment + Service.
(dict "root" $ "component" "ingest" "values" .Values.ingest)
"singleton" true: the old pod is gone before the new one starts (strategy Recreate). The producer is
the city's one clock: a rolling update ran two of them, and the minutes both covered had twice the
trips (measured: 2.5 min of event time at twice the rate after an upgrade, the zone counts 16% high
and requests_15m drifting for the next 15 min). The monitor owns its
run folder's windows and workspace: two of them on one volume pruned each other's runs.
*/}}
{{- define "mlgameday.adminService" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $ctx := dict "root" $root "component" .component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mlgameday.fullname" $root }}-{{ .component }}
  labels:
    {{- include "mlgameday.labels" $ctx | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  {{- if .singleton }}
  strategy: {type: Recreate}
  {{- end }}
  selector:
    matchLabels:
      {{- include "mlgameday.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "mlgameday.labels" $ctx | nindent 8 }}
      {{- include "mlgameday.podAnnotations" (dict "image" $root.Values.image) | nindent 6 }}
    spec:
      {{- include "mlgameday.imagePullSecrets" $root | nindent 6 }}
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: 30
      {{- include "mlgameday.waitForModel" $root | nindent 6 }}
      containers:
        - name: {{ .component }}
          image: {{ include "mlgameday.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .component }}]
          ports:
            - {name: admin, containerPort: {{ $v.port }}}
          env:
            {{- include "mlgameday.serviceEnv" (dict "root" $root "component" .component "port" $v.port "extra" $v.env) | nindent 12 }}
          {{- include "mlgameday.httpProbes" (dict "root" $root "port" "admin" "live" "/healthz" "ready" "/ready") | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            {{- include "mlgameday.serviceVolumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "mlgameday.serviceVolumes" $root | nindent 8 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mlgameday.fullname" $root }}-{{ .component }}
  labels:
    {{- include "mlgameday.labels" $ctx | nindent 4 }}
spec:
  selector:
    {{- include "mlgameday.selectorLabels" $ctx | nindent 4 }}
  ports:
    - {name: admin, port: {{ $v.port }}, targetPort: admin}
{{- end }}

{{/*
The services start once the trainer Job has put a model in the run folder, as on the local
stack: live trips must come after the history the model learns from (the producer), the
history's ingest must be the group's only member while it runs (ingest), and serving and
the monitor need the model and its reference.
*/}}
{{- define "mlgameday.waitForModel" -}}
{{- if .Values.trainer.enabled }}
initContainers:
  - name: wait-for-model
    image: {{ include "mlgameday.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: [python, -c]
    args:
      - |
        import glob, os, time
        pattern = os.path.join(os.environ["BENTOML_HOME"], "models", "triptime", "*", "model.yaml")
        while not glob.glob(pattern):
            print("waiting for a trained model (the trainer Job) in", os.path.dirname(os.path.dirname(pattern)), flush=True)
            time.sleep(5)
    env:
      - name: BENTOML_HOME
        value: {{ printf "%s/bentoml" .Values.runDir.path | quote }}
    resources:
      requests: {cpu: 10m, memory: 32Mi}
      limits: {cpu: 100m, memory: 128Mi}
    securityContext:
      {{- toYaml .Values.containerSecurityContext | nindent 6 }}
    volumeMounts:
      - name: run-dir
        mountPath: {{ .Values.runDir.path }}
{{- end }}
{{- end }}

{{/*
The trainer starts once the broker answers (its Service has a Ready pod): it writes the city's
history to Kafka first, and a broker still starting would make it fail and use up the Job's retries.
*/}}
{{- define "mlgameday.waitForKafka" -}}
initContainers:
  - name: wait-for-kafka
    image: {{ include "mlgameday.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: [python, -c]
    args:
      - |
        import os, socket, time
        host, port = os.environ["BOOTSTRAP"].split(",")[0].rsplit(":", 1)
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=3).close()
                break
            except OSError as exc:
                print(f"waiting for the broker at {host}:{port} ({exc})", flush=True)
                time.sleep(3)
    env:
      - name: BOOTSTRAP
        value: {{ include "mlgameday.kafkaBootstrap" . | quote }}
    resources:
      requests: {cpu: 10m, memory: 32Mi}
      limits: {cpu: 100m, memory: 128Mi}
    securityContext:
      {{- toYaml .Values.containerSecurityContext | nindent 6 }}
    volumeMounts:
      - name: tmp  # the only place a process may write (read-only root filesystem)
        mountPath: /tmp
{{- end }}

{{/*
A pod template's annotations: `extra` (e.g. a checksum of its scripts) and the image's ID when the
values give one (image.id; `gameday k8s install` sets it from the local engine on its own cluster).
An image rebuilt under the same tag then changes the template, and the upgrade rolls the pods
(without it they kept the old image until they restarted).
(dict "image" .Values.image "extra" (dict ...))
*/}}
{{- define "mlgameday.podAnnotations" -}}
{{- $annotations := merge (dict) (.extra | default dict) -}}
{{- with .image.id }}{{ $_ := set $annotations "mlgameday.dev/image-id" . }}{{ end -}}
{{- with $annotations -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
