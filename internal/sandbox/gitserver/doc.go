// Package gitserver runs a real git smart-HTTP server for tests and the demo.
//
// Requests are served by `git http-backend` behind net/http/cgi on 127.0.0.1,
// over bare repositories kept under a root directory at
// http://127.0.0.1:PORT/<owner>/<name>.git. The server asks for a token the
// way GitHub does (HTTP basic auth, the token as password), refuses protected
// branches with GitHub's own GH006 (classic branch protection) and GH013
// (repository ruleset) texts from a pre-receive hook, and has switches that
// make it misbehave on purpose: answer 500 to the next requests, cut the
// connection of a push before or after it is applied, and run a callback
// between a client's fetch and its push (another pipeline landing first).
//
// The bare repositories are plain directories (BareDir), so the GitHub and
// Argo CD simulators can work on them with the git CLI.
package gitserver
