// Package gitopspromote carries the seed config repository of the README (testdata/example)
// inside the binary, so `gitops-promote demo` needs no checkout.
package gitopspromote

import (
	"embed"
	"io/fs"
)

//go:embed all:testdata/example
var example embed.FS

// Example returns the seed config repository: apps/{user-service,order-service}/{base,
// overlays/staging,overlays/production}.
func Example() fs.FS {
	sub, err := fs.Sub(example, "testdata/example")
	if err != nil { // cannot happen: the path is fixed at build time
		return example
	}
	return sub
}
