"""The Kubernetes version kubelite serves: /version, `kubelite version` and the nodes' kubelet version.

kubectl on these machines picks its own binary from the server's minor version, so this is also what
decides which kubectl talks to us.
"""

MAJOR, MINOR, PATCH = 1, 32, 4
KUBERNETES_VERSION = f"v{MAJOR}.{MINOR}.{PATCH}"
GIT_VERSION = f"{KUBERNETES_VERSION}+kubelite"  # semver build metadata: kubectl version still parses it
KUBELET_VERSION = f"{KUBERNETES_VERSION}-kubelite"
