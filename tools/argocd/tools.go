//go:build tools

// Package tools pins Argo CD's multi-call main package (it picks the CLI by executable name, hence `argocd`), so `go mod tidy` keeps its dependencies.
package tools

import (
	_ "github.com/argoproj/argo-cd/v3/cmd"
)
