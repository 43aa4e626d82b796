// Package ghstatus confirms a deploy from what the puller writes back to
// GitHub, with no way into the cluster: the commit statuses of Argo CD
// Notifications and Flux's notification-controller, check runs, and GitHub
// deployments with their statuses.
//
// The readiness rule is the pure function Decide over a View (what GitHub
// shows on our commit and on the later commits of the branch that contain
// it). The Client gathers that view with few requests: conditional REST
// requests with ETags (a 304 does not count against the rate limit), one
// GraphQL query for the statuses and check runs of the later commits, and a
// poll that backs off to 30 s. Git ancestry is read from the parents GitHub
// reports, or from promote's ConfirmSpec.Contains; whether a later commit
// still holds our image values comes from ConfirmSpec.Keeps.
package ghstatus
