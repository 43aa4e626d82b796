// Package argocdsim is an Argo CD API server simulator for tests and the
// demo, faithful to the JSON shapes, status codes and error bodies of the
// real API: session login, GET of an application with ?refresh= (which
// returns only after the reconcile), the watch stream (server-sent events
// with keepalives and an initial ADDED), and sync.
//
// Its state is driven by a real bare git repository, read with the git
// CLI: it polls the tracked branch (every 180 s unless refreshed), renders
// the overlay of that commit with kustomize to learn the resources and
// images, and walks OutOfSync -> operation Running -> Succeeded -> Synced
// and Progressing -> Healthy after a rollout delay. Failures can be
// scripted (Degraded, sync Failed, ComparisonError), as can a stream that
// drops every few seconds and a window of 503 answers.
package argocdsim
