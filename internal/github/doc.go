// Package github lands a change on GitHub through a pull request: it opens
// or adopts the one pull request for a head branch, merges it the way the
// repository allows (as the GitHub CLI decides it: merge now, auto-merge,
// or the merge queue), waits for the merge commit, and creates verified
// commits with GraphQL createCommitOnBranch.
//
// REST goes through go-github, GraphQL through githubv4; both share one
// http.RoundTripper that authenticates with the token (x/oauth2), waits out
// primary and secondary rate limits on 403/429 and retries 5xx answers to
// idempotent requests, sleeping through an injectable Clock. The token never
// appears in an error or a log line.
//
// Errors that a caller decides on are typed: ErrStaleHead (re-read the head
// and re-apply the edit), *ProtectedError (the branch needs a pull request),
// and errors carrying Hint() for the person running the tool.
package github
