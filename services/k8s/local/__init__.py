"""A single-node Kubernetes on this machine, for users who have no cluster: built from the Go
module proxy (build.py), run as processes of a cluster folder outside the work tree
(cluster.py, node.py), with CoreDNS and a local-path provisioner (addons.py, provisioner.py)."""
