package githubsim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// ghError is a GraphQL error with the "type" GitHub puts on it
// (NOT_FOUND, STALE_DATA, UNPROCESSABLE, BRANCH_PROTECTION_RULE_VIOLATION ...).
type ghError struct {
	typ string
	msg string
}

func (e *ghError) Error() string { return e.msg }

func gqlErr(typ, format string, args ...any) error {
	return &ghError{typ: typ, msg: fmt.Sprintf(format, args...)}
}

// Scalars, spelled as GitHub's schema names them.
type (
	gitObjectID  string
	uri          string
	base64String string
	dateTime     struct{ time.Time }
)

func (gitObjectID) ImplementsGraphQLType(name string) bool  { return name == "GitObjectID" }
func (uri) ImplementsGraphQLType(name string) bool          { return name == "URI" }
func (base64String) ImplementsGraphQLType(name string) bool { return name == "Base64String" }
func (dateTime) ImplementsGraphQLType(name string) bool     { return name == "DateTime" }

func (g *gitObjectID) UnmarshalGraphQL(in any) error { return unmarshalString(in, (*string)(g)) }
func (u *uri) UnmarshalGraphQL(in any) error         { return unmarshalString(in, (*string)(u)) }
func (b *base64String) UnmarshalGraphQL(in any) error {
	return unmarshalString(in, (*string)(b))
}
func (d *dateTime) UnmarshalGraphQL(in any) error {
	var s string
	if err := unmarshalString(in, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, s)
	d.Time = t
	return err
}
func (g gitObjectID) MarshalJSON() ([]byte, error)  { return json.Marshal(string(g)) }
func (u uri) MarshalJSON() ([]byte, error)          { return json.Marshal(string(u)) }
func (b base64String) MarshalJSON() ([]byte, error) { return json.Marshal(string(b)) }
func (d dateTime) MarshalJSON() ([]byte, error)     { return json.Marshal(d.UTC().Format(time.RFC3339)) }

func unmarshalString(in any, out *string) error {
	s, ok := in.(string)
	if !ok {
		return fmt.Errorf("wrong type %T, want a string", in)
	}
	*out = s
	return nil
}

func optTime(t time.Time) *dateTime {
	if t.IsZero() {
		return nil
	}
	return &dateTime{t}
}

type rootResolver struct{ s *Server }

func (q *rootResolver) Repository(ctx context.Context, args struct {
	FollowRenames bool
	Name, Owner   string
}) (*repoResolver, error) {
	r, ok := q.s.repos[args.Owner+"/"+args.Name]
	if !ok {
		return nil, gqlErr("NOT_FOUND", "Could not resolve to a Repository with the name '%s/%s'.", args.Owner, args.Name)
	}
	return &repoResolver{s: q.s, r: r}, nil
}

type repoResolver struct {
	s *Server
	r *repoState
}

func (r *repoResolver) AutoMergeAllowed() bool   { return r.r.set.AutoMergeAllowed }
func (r *repoResolver) ID() graphql.ID           { return graphql.ID(fmt.Sprintf("R_sim%d", r.r.id)) }
func (r *repoResolver) MergeCommitAllowed() bool { return true }
func (r *repoResolver) RebaseMergeAllowed() bool { return true }
func (r *repoResolver) SquashMergeAllowed() bool { return true }
func (r *repoResolver) Name() string             { return r.r.name }
func (r *repoResolver) NameWithOwner() string    { return r.r.fullName() }
func (r *repoResolver) URL() uri                 { return uri(r.s.htmlBase() + "/" + r.r.fullName()) }
func (r *repoResolver) DefaultBranchRef() *refResolver {
	return &refResolver{name: r.r.defaultBranch()}
}

func (r *repoResolver) MergeQueue(args struct{ Branch *string }) *queueResolver {
	branch := r.r.defaultBranch()
	if args.Branch != nil {
		branch = *args.Branch
	}
	if !r.r.hasQueue(branch) {
		return nil
	}
	return &queueResolver{s: r.s, r: r.r, branch: branch}
}

func (r *repoResolver) PullRequest(args struct{ Number int32 }) (*prResolver, error) {
	p := r.r.pull(int(args.Number))
	if p == nil {
		return nil, gqlErr("NOT_FOUND", "Could not resolve to a PullRequest with the number of %d.", args.Number)
	}
	return &prResolver{s: r.s, r: r.r, p: p}, nil
}

type refResolver struct{ name string }

func (r *refResolver) ID() graphql.ID { return graphql.ID("REF_sim_" + r.name) }
func (r *refResolver) Name() string   { return r.name }
func (r *refResolver) Prefix() string { return "refs/heads/" }

type queueResolver struct {
	s      *Server
	r      *repoState
	branch string
}

func (q *queueResolver) ID() graphql.ID {
	return graphql.ID(fmt.Sprintf("MQ_sim%d_%s", q.r.id, q.branch))
}
func (q *queueResolver) URL() uri {
	return uri(q.s.htmlBase() + "/" + q.r.fullName() + "/queue/" + q.branch)
}
func (q *queueResolver) Configuration() *queueConfig { return &queueConfig{method: q.r.queueMethod()} }
func (q *queueResolver) Entries(args struct {
	After, Before *string
	First, Last   *int32
}) *entryConn {
	var out []*entryResolver
	for _, p := range q.r.queue {
		if p.base == q.branch {
			out = append(out, &entryResolver{s: q.s, r: q.r, p: p})
		}
	}
	return &entryConn{nodes: out}
}

type queueConfig struct{ method string }

func (c *queueConfig) MergeMethod() *string { return &c.method }

type entryConn struct{ nodes []*entryResolver }

func (c *entryConn) Nodes() *[]*entryResolver { return &c.nodes }
func (c *entryConn) TotalCount() int32        { return int32(len(c.nodes)) }

type entryResolver struct {
	s *Server
	r *repoState
	p *pull
}

func (e *entryResolver) EnqueuedAt() dateTime { return dateTime{e.p.queuedAt} }
func (e *entryResolver) ID() graphql.ID {
	return graphql.ID(fmt.Sprintf("MQE_sim%d_%d", e.r.id, e.p.number))
}
func (e *entryResolver) Position() int32 {
	for i, q := range e.r.queue {
		if q == e.p {
			return int32(i)
		}
	}
	return 0
}
func (e *entryResolver) PullRequest() *prResolver { return &prResolver{s: e.s, r: e.r, p: e.p} }
func (e *entryResolver) State() string {
	if e.r.passing {
		return "MERGEABLE"
	}
	return "AWAITING_CHECKS"
}

type prResolver struct {
	s *Server
	r *repoState
	p *pull
}

func (p *prResolver) AutoMergeRequest() *autoMergeResolver {
	if p.p.auto == nil {
		return nil
	}
	return &autoMergeResolver{a: p.p.auto}
}
func (p *prResolver) BaseRefName() string { return p.p.base }
func (p *prResolver) BaseRefOid(ctx context.Context) gitObjectID {
	return gitObjectID(p.r.git.resolve(ctx, "refs/heads/"+p.p.base))
}
func (p *prResolver) Body() string        { return p.p.body }
func (p *prResolver) Closed() bool        { return p.p.closed }
func (p *prResolver) ClosedAt() *dateTime { return optTime(p.p.closedAt) }
func (p *prResolver) HeadRefName() string { return p.p.head }
func (p *prResolver) HeadRefOid(ctx context.Context) gitObjectID {
	return gitObjectID(p.r.headSHA(ctx, p.p))
}
func (p *prResolver) ID() graphql.ID            { return graphql.ID(p.p.nodeID(p.r)) }
func (p *prResolver) IsDraft() bool             { return p.p.draft }
func (p *prResolver) IsInMergeQueue() bool      { return p.p.inQueue }
func (p *prResolver) IsMergeQueueEnabled() bool { return p.r.hasQueue(p.p.base) }
func (p *prResolver) MergeCommit(ctx context.Context) *commitResolver {
	if p.p.mergeSHA == "" {
		return nil
	}
	return &commitResolver{s: p.s, r: p.r, sha: p.p.mergeSHA}
}
func (p *prResolver) MergeQueueEntry() *entryResolver {
	if !p.p.inQueue {
		return nil
	}
	return &entryResolver{s: p.s, r: p.r, p: p.p}
}
func (p *prResolver) MergeStateStatus(ctx context.Context) string {
	return p.r.mergeState(ctx, p.p, true)
}
func (p *prResolver) Mergeable(ctx context.Context) string {
	switch p.r.mergeState(ctx, p.p, false) {
	case "DIRTY":
		return "CONFLICTING"
	case "UNKNOWN":
		return "UNKNOWN"
	}
	return "MERGEABLE"
}
func (p *prResolver) Merged() bool        { return p.p.merged }
func (p *prResolver) MergedAt() *dateTime { return optTime(p.p.mergedAt) }
func (p *prResolver) Number() int32       { return int32(p.p.number) }
func (p *prResolver) State() string       { return pullState(p.p) }
func (p *prResolver) Title() string       { return p.p.title }
func (p *prResolver) URL() uri {
	return uri(fmt.Sprintf("%s/%s/pull/%d", p.s.htmlBase(), p.r.fullName(), p.p.number))
}

// Commits answers the pull request's commits; the simulator serves the head
// commit (what `last: 1` asks for) with its status rollup.
func (p *prResolver) Commits(ctx context.Context, args struct {
	After, Before *string
	First, Last   *int32
}) (*prCommitConn, error) {
	base := p.r.git.resolve(ctx, "refs/heads/"+p.p.base)
	head := p.r.headSHA(ctx, p.p)
	shas, err := p.r.git.revList(ctx, base, head)
	if err != nil || p.p.merged {
		shas = []string{head}
	}
	total := len(shas)
	if args.Last != nil && int(*args.Last) < len(shas) {
		shas = shas[len(shas)-int(*args.Last):]
	}
	if args.First != nil && int(*args.First) < len(shas) {
		shas = shas[:*args.First]
	}
	var nodes []*prCommitResolver
	for _, sha := range shas {
		nodes = append(nodes, &prCommitResolver{c: &commitResolver{s: p.s, r: p.r, sha: sha, pr: p.p}})
	}
	return &prCommitConn{nodes: nodes, total: total}, nil
}

type autoMergeResolver struct{ a *autoMerge }

func (a *autoMergeResolver) CommitBody() *string     { return optString(a.a.body) }
func (a *autoMergeResolver) CommitHeadline() *string { return optString(a.a.headline) }
func (a *autoMergeResolver) EnabledAt() *dateTime    { return optTime(a.a.enabledAt) }
func (a *autoMergeResolver) MergeMethod() string     { return a.a.method }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type prCommitConn struct {
	nodes []*prCommitResolver
	total int
}

func (c *prCommitConn) Nodes() *[]*prCommitResolver { return &c.nodes }
func (c *prCommitConn) TotalCount() int32           { return int32(c.total) }

type prCommitResolver struct{ c *commitResolver }

func (c *prCommitResolver) Commit() *commitResolver { return c.c }
func (c *prCommitResolver) ID() graphql.ID          { return graphql.ID("PRC_sim_" + c.c.sha) }

type commitResolver struct {
	s   *Server
	r   *repoState
	sha string
	pr  *pull // set when read through a pull request's commits
}

func (c *commitResolver) ID() graphql.ID   { return graphql.ID("C_sim_" + c.sha) }
func (c *commitResolver) Oid() gitObjectID { return gitObjectID(c.sha) }
func (c *commitResolver) URL() uri {
	return uri(c.s.htmlBase() + "/" + c.r.fullName() + "/commit/" + c.sha)
}
func (c *commitResolver) Message(ctx context.Context) (string, error) {
	info, err := c.r.git.readCommit(ctx, c.sha)
	return strings.TrimRight(info.message, "\n"), err
}
func (c *commitResolver) MessageHeadline(ctx context.Context) (string, error) {
	msg, err := c.Message(ctx)
	return strings.SplitN(msg, "\n", 2)[0], err
}
func (c *commitResolver) StatusCheckRollup(ctx context.Context) *rollupResolver {
	state := "SUCCESS"
	if c.pr != nil && !c.pr.merged {
		state = c.r.rollupState(ctx, c.pr)
	}
	if state == "" {
		return nil
	}
	return &rollupResolver{s: c.s, r: c.r, pr: c.pr, sha: c.sha, state: state}
}

type rollupResolver struct {
	s          *Server
	r          *repoState
	pr         *pull
	sha, state string
}

func (r *rollupResolver) ID() graphql.ID { return graphql.ID("SCR_sim_" + r.sha) }
func (r *rollupResolver) State() string  { return r.state }

// Contexts lists the newest status per context and check run per name on
// the commit; isRequired answers for the pull request's base. Required
// checks passed with SetChecksPassing show as successful statuses.
func (r *rollupResolver) Contexts(args struct {
	After, Before *string
	First, Last   *int32
}) *rollupContextConn {
	items := r.r.items(r.sha)
	if len(items) == 0 && r.r.passing {
		for _, name := range r.r.set.RequiredChecks {
			items = append(items, checkItem{status: &statusRec{CommitStatus: CommitStatus{Context: name, State: "success", Creator: r.s.login}, created: r.s.now()}})
		}
	}
	conn := &rollupContextConn{}
	for _, it := range items {
		conn.nodes = append(conn.nodes, &rollupContextResolver{s: r.s, r: r.r, pr: r.pr, it: it})
	}
	if args.First != nil && int(*args.First) < len(conn.nodes) {
		conn.nodes = conn.nodes[:*args.First]
	}
	return conn
}

// serveGraphQL executes one GraphQL request and writes GitHub's response
// shape: data only when execution started, errors with GitHub's wording.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Message: "Problems parsing JSON", DocumentationURL: "https://docs.github.com/graphql"})
		return
	}
	s.count(r.Pattern + " " + operationKey(in.Query))
	s.mu.Lock()
	resp := s.schema.Exec(r.Context(), in.Query, in.OperationName, in.Variables)
	s.mu.Unlock()
	out := struct {
		Data   json.RawMessage  `json:"data,omitempty"`
		Errors []map[string]any `json:"errors,omitempty"`
	}{}
	validation := false
	for _, e := range resp.Errors {
		ge, isValidation := githubError(e)
		validation = validation || isValidation
		out.Errors = append(out.Errors, ge)
	}
	if !validation && len(resp.Data) > 0 {
		out.Data = resp.Data
	}
	writeJSON(w, http.StatusOK, out)
}

var opRE = regexp.MustCompile(`^\s*(query|mutation)?[^{]*\{\s*(\w+)`)

// operationKey names a GraphQL request by its kind and first field.
func operationKey(q string) string {
	m := opRE.FindStringSubmatch(q)
	if m == nil {
		return "(unparsed)"
	}
	kind := m[1]
	if kind == "" {
		kind = "query"
	}
	return kind + " " + m[2]
}

var (
	undefinedFieldRE = regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"\.`)
	unknownArgRE     = regexp.MustCompile(`^Unknown argument "([^"]+)" on field "[^".]*\.?([^"]+)"`)
)

// githubError renders one error as GitHub does, and reports whether it is a
// validation error (GitHub then sends no data at all).
func githubError(e *gqlerrors.QueryError) (map[string]any, bool) {
	out := map[string]any{"message": e.Message}
	if len(e.Locations) > 0 {
		out["locations"] = e.Locations
	}
	if len(e.Path) > 0 {
		out["path"] = e.Path
	}
	var ge *ghError
	if errors.As(e.ResolverError, &ge) {
		out["type"] = ge.typ
		out["message"] = ge.msg
		return out, false
	}
	if e.ResolverError != nil {
		return out, false
	}
	if m := undefinedFieldRE.FindStringSubmatch(e.Message); m != nil {
		out["message"] = fmt.Sprintf("Field '%s' doesn't exist on type '%s'", m[1], m[2])
		out["extensions"] = map[string]any{"code": "undefinedField", "typeName": m[2], "fieldName": m[1]}
	} else if m := unknownArgRE.FindStringSubmatch(e.Message); m != nil {
		out["message"] = fmt.Sprintf("Field '%s' doesn't accept argument '%s'", m[2], m[1])
		out["extensions"] = map[string]any{"code": "argumentNotAccepted", "name": m[2], "argumentName": m[1]}
	}
	return out, true
}

// decodeContents decodes a FileAddition's contents as GitHub does: RFC 4648
// standard base64 with padding.
func decodeContents(path string, b base64String) ([]byte, error) {
	data, err := base64.StdEncoding.Strict().DecodeString(string(b))
	if err != nil {
		return nil, gqlErr("UNPROCESSABLE", "The contents of file %q are not valid base64.", path)
	}
	return data, nil
}
