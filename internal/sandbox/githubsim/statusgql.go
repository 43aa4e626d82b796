package githubsim

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"
)

// statusSDL extends schemaSDL with what a deploy waiter reads over GraphQL:
// Repository.object, and on Commit its history, parents, commit statuses
// (Status.contexts) and check suites with their check runs. Names as in
// GitHub's public schema.
const statusSDL = `
interface GitObject {
  id: ID!
  oid: GitObjectID!
}

extend type Repository {
  object(expression: String, oid: GitObjectID): GitObject
}

extend type Commit implements GitObject {
  checkSuites(after: String, before: String, first: Int, last: Int): CheckSuiteConnection
  history(after: String, before: String, first: Int, last: Int): CommitHistoryConnection!
  parents(after: String, before: String, first: Int, last: Int): CommitConnection!
  status: Status
}

type CommitHistoryConnection {
  nodes: [Commit]
  totalCount: Int!
}

type CommitConnection {
  nodes: [Commit]
  totalCount: Int!
}

type Status {
  contexts: [StatusContext!]!
  id: ID!
  state: StatusState!
}

type StatusContext {
  context: String!
  createdAt: DateTime!
  description: String
  id: ID!
  state: StatusState!
  targetUrl: URI
}

type CheckSuiteConnection {
  nodes: [CheckSuite]
  totalCount: Int!
}

type CheckSuite {
  checkRuns(after: String, before: String, filterBy: CheckRunFilter, first: Int, last: Int): CheckRunConnection
  id: ID!
}

input CheckRunFilter {
  appId: Int
  checkName: String
  checkType: CheckRunType
  status: CheckStatusState
}

enum CheckRunType {
  ALL
  LATEST
}

type CheckRunConnection {
  nodes: [CheckRun]
  totalCount: Int!
}

type CheckRun {
  conclusion: CheckConclusionState
  detailsUrl: URI
  id: ID!
  name: String!
  status: CheckStatusState!
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
`

type gitObjectResolver struct{ c *commitResolver }

func (g *gitObjectResolver) ID() graphql.ID                    { return g.c.ID() }
func (g *gitObjectResolver) Oid() gitObjectID                  { return g.c.Oid() }
func (g *gitObjectResolver) ToCommit() (*commitResolver, bool) { return g.c, true }

// Object resolves a revision expression (a branch, a SHA) or an oid to its
// commit; null when it names none, as GitHub answers.
func (r *repoResolver) Object(ctx context.Context, args struct {
	Expression *string
	Oid        *gitObjectID
}) *gitObjectResolver {
	var rev string
	switch {
	case args.Oid != nil:
		rev = string(*args.Oid)
	case args.Expression != nil:
		rev = *args.Expression
	default:
		return nil
	}
	sha := r.r.git.resolve(ctx, rev)
	if sha == "" {
		return nil
	}
	return &gitObjectResolver{c: &commitResolver{s: r.s, r: r.r, sha: sha}}
}

type connArgs struct {
	After, Before *string
	First, Last   *int32
}

func (a connArgs) limit(def int) int {
	if a.First != nil && *a.First > 0 {
		return min(int(*a.First), 100)
	}
	return def
}

type commitConn struct {
	nodes []*commitResolver
	total int
}

func (c *commitConn) Nodes() *[]*commitResolver { return &c.nodes }
func (c *commitConn) TotalCount() int32         { return int32(c.total) }

// History lists the commit and its ancestors, newest first (git log order).
func (c *commitResolver) History(ctx context.Context, args connArgs) (*commitConn, error) {
	out, err := c.r.git.run(ctx, nil, nil, "rev-list", "--max-count="+fmt.Sprint(args.limit(100)), c.sha)
	if err != nil {
		return nil, err
	}
	count, err := c.r.git.run(ctx, nil, nil, "rev-list", "--count", c.sha)
	if err != nil {
		return nil, err
	}
	total, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil {
		return nil, fmt.Errorf("counting the history of %s: %w", c.sha, err)
	}
	conn := &commitConn{total: total}
	for _, sha := range strings.Fields(out) {
		conn.nodes = append(conn.nodes, &commitResolver{s: c.s, r: c.r, sha: sha})
	}
	return conn, nil
}

// Parents lists the commit's parents in order.
func (c *commitResolver) Parents(ctx context.Context, args connArgs) (*commitConn, error) {
	info, err := c.r.git.readCommit(ctx, c.sha)
	if err != nil {
		return nil, err
	}
	conn := &commitConn{total: len(info.parents)}
	for i, p := range info.parents {
		if i < args.limit(100) {
			conn.nodes = append(conn.nodes, &commitResolver{s: c.s, r: c.r, sha: p})
		}
	}
	return conn, nil
}

// Status is the latest status of each context, null when the commit has none.
func (c *commitResolver) Status() *statusResolver {
	c.s.st.init()
	all := c.s.st.statuses[c.r.fullName()+"@"+c.sha]
	if len(all) == 0 {
		return nil
	}
	out := &statusResolver{sha: c.sha, state: "SUCCESS"}
	seen := map[string]bool{}
	for i := len(all) - 1; i >= 0; i-- {
		st := all[i]
		if seen[st.context] {
			continue
		}
		seen[st.context] = true
		out.contexts = append(out.contexts, &statusContextResolver{st})
		switch {
		case st.state == "error" || st.state == "failure":
			out.state = "FAILURE"
		case st.state == "pending" && out.state != "FAILURE":
			out.state = "PENDING"
		}
	}
	return out
}

type statusResolver struct {
	sha, state string
	contexts   []*statusContextResolver
}

func (s *statusResolver) Contexts() []*statusContextResolver { return s.contexts }
func (s *statusResolver) ID() graphql.ID                     { return graphql.ID("S_sim_" + s.sha) }
func (s *statusResolver) State() string                      { return s.state }

type statusContextResolver struct{ c *commitStatus }

func (s *statusContextResolver) Context() string      { return s.c.context }
func (s *statusContextResolver) CreatedAt() dateTime  { return dateTime{s.c.at} }
func (s *statusContextResolver) ID() graphql.ID       { return graphql.ID(fmt.Sprintf("SC_sim%d", s.c.id)) }
func (s *statusContextResolver) State() string        { return strings.ToUpper(s.c.state) }
func (s *statusContextResolver) Description() *string { return optString(s.c.description) }
func (s *statusContextResolver) TargetURL() *uri      { return optURI(s.c.link) }

func optURI(s string) *uri {
	if s == "" {
		return nil
	}
	u := uri(s)
	return &u
}

// CheckSuites has one suite per commit that has check runs (the simulator
// has one app).
func (c *commitResolver) CheckSuites(args connArgs) *checkSuiteConn {
	c.s.st.init()
	runs := c.s.st.checks[c.r.fullName()+"@"+c.sha]
	if len(runs) == 0 {
		return &checkSuiteConn{}
	}
	return &checkSuiteConn{nodes: []*checkSuiteResolver{{sha: c.sha, runs: runs}}}
}

type checkSuiteConn struct{ nodes []*checkSuiteResolver }

func (c *checkSuiteConn) Nodes() *[]*checkSuiteResolver { return &c.nodes }
func (c *checkSuiteConn) TotalCount() int32             { return int32(len(c.nodes)) }

type checkSuiteResolver struct {
	sha  string
	runs []*checkRun
}

func (s *checkSuiteResolver) ID() graphql.ID { return graphql.ID("CS_sim_" + s.sha) }

// CheckRuns lists the suite's runs, newest first; checkType LATEST keeps
// the newest of each name.
func (s *checkSuiteResolver) CheckRuns(args struct {
	connArgs
	FilterBy *struct {
		AppID     *int32
		CheckName *string
		CheckType *string
		Status    *string
	}
}) *checkRunConn {
	out := &checkRunConn{}
	seen := map[string]bool{}
	for i := len(s.runs) - 1; i >= 0 && len(out.nodes) < args.limit(100); i-- {
		c := s.runs[i]
		f := args.FilterBy
		if f != nil && ((f.CheckType != nil && *f.CheckType == "LATEST" && seen[c.name]) ||
			(f.CheckName != nil && *f.CheckName != c.name) || (f.Status != nil && !strings.EqualFold(*f.Status, c.status))) {
			continue
		}
		seen[c.name] = true
		out.nodes = append(out.nodes, &checkRunResolver{c})
	}
	return out
}

type checkRunConn struct{ nodes []*checkRunResolver }

func (c *checkRunConn) Nodes() *[]*checkRunResolver { return &c.nodes }
func (c *checkRunConn) TotalCount() int32           { return int32(len(c.nodes)) }

type checkRunResolver struct{ c *checkRun }

func (r *checkRunResolver) ID() graphql.ID   { return graphql.ID(fmt.Sprintf("CR_sim%d", r.c.id)) }
func (r *checkRunResolver) Name() string     { return r.c.name }
func (r *checkRunResolver) Status() string   { return strings.ToUpper(r.c.status) }
func (r *checkRunResolver) DetailsURL() *uri { return optURI(r.c.link) }
func (r *checkRunResolver) Conclusion() *string {
	if r.c.conclusion == "" {
		return nil
	}
	c := strings.ToUpper(r.c.conclusion)
	return &c
}
