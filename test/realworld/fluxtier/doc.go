// Package fluxtier holds the Flux scenarios of the real-world test tier: the real
// gitops-promote binary against the real Flux controllers (source-controller v1.9.3,
// kustomize-controller v1.9.6, notification-controller v1.9.3 writing commit statuses to the
// sandbox GitHub simulator) on a real kube-apiserver v1.34.2, brought up by package fluxworld.
// They build only with the tag realworld:
//
//	test/realworld/build.sh && test/realworld/build.sh --flux   # once; cached
//	go test -tags realworld -count=1 -timeout 20m ./test/realworld/fluxtier/
package fluxtier
