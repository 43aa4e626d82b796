package githubsim

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"
)

// statusSDL extends schemaSDL with what a deploy waiter reads over GraphQL:
// Repository.object, and on Commit its history, parents, commit statuses
// (Status.contexts) and check suites with their check runs. Names as in
// GitHub's public schema. CheckRun, StatusContext and their enums are
// defined once, in schemaSDL, for both this and StatusCheckRollup.
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
	latest := c.r.latestStatuses(c.sha)
	if len(latest) == 0 {
		return nil
	}
	out := &statusResolver{sha: c.sha, state: strings.ToUpper(combinedState(latest))}
	for _, st := range latest {
		out.contexts = append(out.contexts, &statusContextResolver{st: st, req: requirement{s: c.s, r: c.r, pr: c.pr}})
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

// CheckSuites has one suite per app with check runs on the commit, in the
// order the apps first reported.
func (c *commitResolver) CheckSuites(args connArgs) *checkSuiteConn {
	conn := &checkSuiteConn{}
	runs := c.r.runs[c.sha]
	for _, rr := range runs {
		if slices.ContainsFunc(conn.nodes, func(s *checkSuiteResolver) bool { return s.app == rr.App }) {
			continue
		}
		suite := &checkSuiteResolver{c: c, app: rr.App, id: rr.id}
		for _, o := range runs {
			if o.App == rr.App {
				suite.runs = append(suite.runs, o)
			}
		}
		conn.nodes = append(conn.nodes, suite)
	}
	conn.total = len(conn.nodes)
	if n := args.limit(100); n < len(conn.nodes) {
		conn.nodes = conn.nodes[:n]
	}
	return conn
}

type checkSuiteConn struct {
	nodes []*checkSuiteResolver
	total int
}

func (c *checkSuiteConn) Nodes() *[]*checkSuiteResolver { return &c.nodes }
func (c *checkSuiteConn) TotalCount() int32             { return int32(c.total) }

type checkSuiteResolver struct {
	c    *commitResolver
	app  string
	id   int
	runs []*runRec // oldest first
}

func (s *checkSuiteResolver) ID() graphql.ID { return graphql.ID(fmt.Sprintf("CS_sim%d", s.id)) }

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
	var latest bool
	var name, status string
	if f := args.FilterBy; f != nil {
		latest = f.CheckType != nil && *f.CheckType == "LATEST"
		if f.CheckName != nil {
			name = *f.CheckName
		}
		if f.Status != nil {
			status = *f.Status
		}
	}
	runs := filterRuns(s.runs, latest, name, status)
	out := &checkRunConn{total: len(runs)}
	for _, rr := range runs[:min(len(runs), args.limit(100))] {
		out.nodes = append(out.nodes, &checkRunResolver{run: rr, req: requirement{s: s.c.s, r: s.c.r, pr: s.c.pr}})
	}
	return out
}

type checkRunConn struct {
	nodes []*checkRunResolver
	total int
}

func (c *checkRunConn) Nodes() *[]*checkRunResolver { return &c.nodes }
func (c *checkRunConn) TotalCount() int32           { return int32(c.total) }
