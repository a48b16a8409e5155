"""What the cluster runs on itself: CoreDNS (Service names resolve in pods) and the default
StorageClass served by the local-path provisioner (provisioner.py)."""

from __future__ import annotations

from .layout import CLUSTER_DOMAIN, COREDNS_IMAGE, DNS_SERVICE_IP, PROVISIONER_NAME, STORAGE_CLASS

# No `forward`: names outside the cluster are not answered (the pods have nothing to reach
# past the machine; a cluster with a way out would forward to the node's resolver).
COREFILE = f"""\
.:53 {{
    errors
    health {{
        lameduck 5s
    }}
    ready
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


ADDONS = f"""\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: {PROVISIONER_NAME}
reclaimPolicy: Delete
volumeBindingMode: Immediate
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: coredns, namespace: kube-system}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: "system:coredns"}}
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: "system:coredns"}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}}
subjects: [{{kind: ServiceAccount, name: coredns, namespace: kube-system}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: coredns, namespace: kube-system}}
data:
  Corefile: |
{_indent(COREFILE, 4)}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {{matchLabels: {{k8s-app: kube-dns}}}}
  template:
    metadata:
      labels: {{k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      containers:
        - name: coredns
          image: {COREDNS_IMAGE}
          imagePullPolicy: Never
          args: [-conf, /etc/coredns/Corefile]
          ports:
            - {{name: dns, containerPort: 53, protocol: UDP}}
            - {{name: dns-tcp, containerPort: 53, protocol: TCP}}
          resources:
            requests: {{cpu: 50m, memory: 40Mi}}
            limits: {{memory: 120Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL], add: [NET_BIND_SERVICE]}}
          volumeMounts: [{{name: config, mountPath: /etc/coredns, readOnly: true}}]
          livenessProbe:
            httpGet: {{path: /health, port: 8080}}
            periodSeconds: 10
          readinessProbe:
            httpGet: {{path: /ready, port: 8181}}
            periodSeconds: 2
      volumes: [{{name: config, configMap: {{name: coredns}}}}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  clusterIP: {DNS_SERVICE_IP}
  selector: {{k8s-app: kube-dns}}
  ports:
    - {{name: dns, port: 53, protocol: UDP}}
    - {{name: dns-tcp, port: 53, protocol: TCP}}
"""
