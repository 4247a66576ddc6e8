// Command opa runs Open Policy Agent from its Go module; only the benchmarks use it
// (`npm run bench -- admission` serves bench/opa/trainingjob.rego with `opa run --server`).
package main

import (
	"os"

	"github.com/open-policy-agent/opa/cmd"
)

func main() {
	if err := cmd.RootCommand.Execute(); err != nil {
		os.Exit(1)
	}
}
