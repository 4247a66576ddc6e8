//go:build tools

// Package tools pins the node's commands, apart from the control plane's module so that adding them
// leaves the control-plane binaries' cache keys alone.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
