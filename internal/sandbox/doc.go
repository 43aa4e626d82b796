// Package sandbox starts the whole local world of the tests and the demo in one call: a real
// git smart-HTTP server (gitserver) holding the config repository with a protected main, a
// GitHub API simulator (githubsim) over the same bare repository, and an Argo CD API simulator
// (argocdsim) whose applications track the repository's overlays. Everything listens on
// 127.0.0.1 and goes away with Close.
package sandbox
