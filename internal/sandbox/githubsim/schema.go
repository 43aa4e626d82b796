package githubsim

// schemaSDL is the subset of GitHub's public GraphQL schema the simulator
// serves. Every type, field, argument and enum value is spelled as in
// GitHub's schema (octokit/graphql-schema); what GitHub has and the
// simulator does not serve is simply absent, so a query for it fails
// validation like a query for a field GitHub lacks.
const schemaSDL = `
schema {
  query: Query
  mutation: Mutation
}

scalar Base64String
scalar DateTime
scalar GitObjectID
scalar URI

type Query {
  repository(followRenames: Boolean = true, name: String!, owner: String!): Repository
}

type Mutation {
  createCommitOnBranch(input: CreateCommitOnBranchInput!): CreateCommitOnBranchPayload
  enablePullRequestAutoMerge(input: EnablePullRequestAutoMergeInput!): EnablePullRequestAutoMergePayload
  enqueuePullRequest(input: EnqueuePullRequestInput!): EnqueuePullRequestPayload
  mergePullRequest(input: MergePullRequestInput!): MergePullRequestPayload
}

type Repository {
  autoMergeAllowed: Boolean!
  defaultBranchRef: Ref
  id: ID!
  mergeCommitAllowed: Boolean!
  mergeQueue(branch: String): MergeQueue
  name: String!
  nameWithOwner: String!
  pullRequest(number: Int!): PullRequest
  rebaseMergeAllowed: Boolean!
  squashMergeAllowed: Boolean!
  url: URI!
}

type Ref {
  id: ID!
  name: String!
  prefix: String!
}

type MergeQueue {
  configuration: MergeQueueConfiguration
  entries(after: String, before: String, first: Int, last: Int): MergeQueueEntryConnection
  id: ID!
  url: URI!
}

type MergeQueueConfiguration {
  mergeMethod: PullRequestMergeMethod
}

type MergeQueueEntryConnection {
  nodes: [MergeQueueEntry]
  totalCount: Int!
}

type MergeQueueEntry {
  enqueuedAt: DateTime!
  id: ID!
  position: Int!
  pullRequest: PullRequest
  state: MergeQueueEntryState!
}

enum MergeQueueEntryState {
  AWAITING_CHECKS
  LOCKED
  MERGEABLE
  QUEUED
  UNMERGEABLE
}

type PullRequest {
  autoMergeRequest: AutoMergeRequest
  baseRefName: String!
  baseRefOid: GitObjectID!
  body: String!
  closed: Boolean!
  closedAt: DateTime
  commits(after: String, before: String, first: Int, last: Int): PullRequestCommitConnection!
  headRefName: String!
  headRefOid: GitObjectID!
  id: ID!
  isDraft: Boolean!
  isInMergeQueue: Boolean!
  isMergeQueueEnabled: Boolean!
  mergeCommit: Commit
  mergeQueueEntry: MergeQueueEntry
  mergeStateStatus: MergeStateStatus!
  mergeable: MergeableState!
  merged: Boolean!
  mergedAt: DateTime
  number: Int!
  state: PullRequestState!
  timelineItems(after: String, before: String, first: Int, itemTypes: [PullRequestTimelineItemsItemType!], last: Int, since: DateTime, skip: Int): PullRequestTimelineItemsConnection!
  title: String!
  url: URI!
}

interface Actor {
  login: String!
}

type User implements Actor {
  id: ID!
  login: String!
}

union PullRequestTimelineItems = AutoMergeDisabledEvent | ClosedEvent | RemovedFromMergeQueueEvent

enum PullRequestTimelineItemsItemType {
  AUTO_MERGE_DISABLED_EVENT
  CLOSED_EVENT
  REMOVED_FROM_MERGE_QUEUE_EVENT
}

type PullRequestTimelineItemsConnection {
  filteredCount: Int!
  nodes: [PullRequestTimelineItems]
  totalCount: Int!
}

type AutoMergeDisabledEvent {
  actor: Actor
  createdAt: DateTime!
  id: ID!
  reason: String
  reasonCode: String
}

type ClosedEvent {
  actor: Actor
  createdAt: DateTime!
  id: ID!
}

type RemovedFromMergeQueueEvent {
  actor: Actor
  createdAt: DateTime!
  id: ID!
  reason: String
}

type AutoMergeRequest {
  commitBody: String
  commitHeadline: String
  enabledAt: DateTime
  mergeMethod: PullRequestMergeMethod!
}

type PullRequestCommitConnection {
  nodes: [PullRequestCommit]
  totalCount: Int!
}

type PullRequestCommit {
  commit: Commit!
  id: ID!
}

type Commit {
  id: ID!
  message: String!
  messageHeadline: String!
  oid: GitObjectID!
  statusCheckRollup: StatusCheckRollup
  url: URI!
}

type StatusCheckRollup {
  contexts(after: String, before: String, first: Int, last: Int): StatusCheckRollupContextConnection!
  id: ID!
  state: StatusState!
}

union StatusCheckRollupContext = CheckRun | StatusContext

type StatusCheckRollupContextConnection {
  nodes: [StatusCheckRollupContext]
  totalCount: Int!
}

type CheckRun {
  conclusion: CheckConclusionState
  detailsUrl: URI
  id: ID!
  isRequired(pullRequestId: ID, pullRequestNumber: Int): Boolean!
  name: String!
  status: CheckStatusState!
}

type StatusContext {
  context: String!
  createdAt: DateTime!
  description: String
  id: ID!
  isRequired(pullRequestId: ID, pullRequestNumber: Int): Boolean!
  state: StatusState!
  targetUrl: URI
}

enum CheckConclusionState {
  ACTION_REQUIRED
  CANCELLED
  FAILURE
  NEUTRAL
  SKIPPED
  STALE
  STARTUP_FAILURE
  SUCCESS
  TIMED_OUT
}

enum CheckStatusState {
  COMPLETED
  IN_PROGRESS
  PENDING
  QUEUED
  REQUESTED
  WAITING
}

enum StatusState {
  ERROR
  EXPECTED
  FAILURE
  PENDING
  SUCCESS
}

enum MergeStateStatus {
  BEHIND
  BLOCKED
  CLEAN
  DIRTY
  DRAFT @deprecated(reason: "DRAFT state will be removed from this enum and ` + "`isDraft`" + ` should be used instead Use PullRequest.isDraft instead. Removal on 2021-01-01 UTC.")
  HAS_HOOKS
  UNKNOWN
  UNSTABLE
}

enum MergeableState {
  CONFLICTING
  MERGEABLE
  UNKNOWN
}

enum PullRequestState {
  CLOSED
  MERGED
  OPEN
}

enum PullRequestMergeMethod {
  MERGE
  REBASE
  SQUASH
}

input CommittableBranch {
  branchName: String
  id: ID
  repositoryNameWithOwner: String
}

input CommitMessage {
  body: String
  headline: String!
}

input FileAddition {
  contents: Base64String!
  path: String!
}

input FileDeletion {
  path: String!
}

input FileChanges {
  additions: [FileAddition!] = []
  deletions: [FileDeletion!] = []
}

input CreateCommitOnBranchInput {
  branch: CommittableBranch!
  clientMutationId: String
  expectedHeadOid: GitObjectID!
  fileChanges: FileChanges
  message: CommitMessage!
}

type CreateCommitOnBranchPayload {
  clientMutationId: String
  commit: Commit
  ref: Ref
}

input EnablePullRequestAutoMergeInput {
  authorEmail: String
  clientMutationId: String
  commitBody: String
  commitHeadline: String
  expectedHeadOid: GitObjectID
  mergeMethod: PullRequestMergeMethod = MERGE
  pullRequestId: ID!
}

type EnablePullRequestAutoMergePayload {
  clientMutationId: String
  pullRequest: PullRequest
}

input EnqueuePullRequestInput {
  clientMutationId: String
  expectedHeadOid: GitObjectID
  jump: Boolean
  pullRequestId: ID!
}

type EnqueuePullRequestPayload {
  clientMutationId: String
  mergeQueueEntry: MergeQueueEntry
}

input MergePullRequestInput {
  authorEmail: String
  clientMutationId: String
  commitBody: String
  commitHeadline: String
  expectedHeadOid: GitObjectID
  mergeMethod: PullRequestMergeMethod = MERGE
  pullRequestId: ID!
}

type MergePullRequestPayload {
  clientMutationId: String
  pullRequest: PullRequest
}
`
