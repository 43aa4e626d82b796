// Package gitrepo fetches, commits and pushes a config repository with
// go-git, in memory.
//
// Fetch reads only the head commit of one branch (depth 1, single branch)
// into memory storage; nothing is checked out and no credential is written
// anywhere. Where the server can filter (GitHub can), only the commit and
// its trees come; Snapshot.FS fetches the blobs of a folder when it first
// reads one, and after a few folders every blob of the head it still lacks,
// by SHA in one request, as git fills in a blobless clone. Snapshot.Commit writes new blobs and only the trees along the
// changed paths, and Snapshot.Push lands the commit as a fast-forward,
// never forcing. Contains walks commit history fetched with growing depth.
//
// Push refusals come back as typed errors the caller acts on:
// ErrNonFastForward for every shape of a lost race (re-edit and retry),
// *ProtectedError for GitHub's branch protection (GH006) and rulesets
// (GH013), ErrAuth, ErrNotFound, and *NetworkError (Temporary) for faults of
// the transport, which Push and Fetch already retried a bounded number of
// times.
//
// The token is sent as HTTP basic auth (user x-access-token) and is never
// part of an error, a log line or a URL this package prints.
package gitrepo
