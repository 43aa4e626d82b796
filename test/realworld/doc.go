// Package realworld holds the real-world test tier: the scenarios of scenarios_test.go run the
// real gitops-promote binary against a real Argo CD v3.2.11 on a real kube-apiserver v1.34.2
// (brought up by package world from binaries built by build.sh). They build only with the
// tag realworld, so `make test` stays fast:
//
//	make realworld   # builds the binaries once (cached), then go test -tags realworld ./test/realworld/
package realworld
