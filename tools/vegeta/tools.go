//go:build tools

// Package tools pins the vegeta command this module builds.
package tools

import _ "github.com/tsenart/vegeta/v12"
