// Package githubsim is a GitHub API simulator for tests and the local demo.
//
// It answers the REST calls and the GraphQL operations that gitops-promote
// sends (repositories, git refs, pull requests, labels, reviewers, branch
// rules, auto-merge, merge queues and createCommitOnBranch) over real bare
// git repositories on disk. Merges, squashes and rebases are done for real
// with git plumbing (merge-tree --write-tree, commit-tree, update-ref with
// the old value), so refs move exactly as GitHub would move them.
//
// GraphQL is executed by github.com/graph-gophers/graphql-go against an SDL
// subset of GitHub's public schema: fields GitHub lacks are refused with
// GitHub's error text and answers hold exactly the fields that were asked.
// Errors use GitHub's documented shapes (422 "Validation Failed" bodies,
// GraphQL errors with a "type" such as STALE_DATA or UNPROCESSABLE).
//
// Commit statuses and check runs are kept once per repository and commit:
// the REST endpoints (with ETags and pagination), the required-check gate
// on merges and the GraphQL statusCheckRollup, Commit.status and
// checkSuites all read the same records.
//
// Test controls: SetChecksPassing ("required checks pass now"), SetStatus
// and SetCheckRun (one status or check run), ClosePR, SetDraft,
// RemoveFromQueue, InjectFaults (rate limits and 5xx answers) and Requests
// and CountedRequests (requests by endpoint, for API-economy tests).
package githubsim
