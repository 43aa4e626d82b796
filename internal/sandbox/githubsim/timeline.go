package githubsim

import (
	"fmt"
	"slices"

	graphql "github.com/graph-gophers/graphql-go"
)

// TimelineItems answers the pull request's recorded events (closing,
// auto-merge turned off, removal from the merge queue), oldest first,
// filtered by itemTypes and cut by first/last.
func (p *prResolver) TimelineItems(args struct {
	After, Before *string
	First         *int32
	ItemTypes     *[]string
	Last          *int32
	Since         *dateTime
	Skip          *int32
}) *timelineConn {
	var nodes []*timelineItem
	for i, e := range p.p.events {
		if args.ItemTypes != nil && !slices.Contains(*args.ItemTypes, e.kind) {
			continue
		}
		if args.Since != nil && e.at.Before(args.Since.Time) {
			continue
		}
		nodes = append(nodes, &timelineItem{id: fmt.Sprintf("EV_sim%d_%d_%d", p.r.id, p.p.number, i), e: e})
	}
	filtered := len(nodes)
	if args.Skip != nil && int(*args.Skip) < len(nodes) {
		nodes = nodes[*args.Skip:]
	}
	if args.First != nil && int(*args.First) < len(nodes) {
		nodes = nodes[:*args.First]
	}
	if args.Last != nil && int(*args.Last) < len(nodes) {
		nodes = nodes[len(nodes)-int(*args.Last):]
	}
	return &timelineConn{nodes: nodes, filtered: filtered, total: len(p.p.events)}
}

type timelineConn struct {
	nodes           []*timelineItem
	filtered, total int
}

func (c *timelineConn) FilteredCount() int32    { return int32(c.filtered) }
func (c *timelineConn) Nodes() *[]*timelineItem { return &c.nodes }
func (c *timelineConn) TotalCount() int32       { return int32(c.total) }

// timelineItem is the PullRequestTimelineItems union.
type timelineItem struct {
	id string
	e  event
}

func (t *timelineItem) ToAutoMergeDisabledEvent() (*eventResolver, bool) {
	return &eventResolver{t}, t.e.kind == "AUTO_MERGE_DISABLED_EVENT"
}
func (t *timelineItem) ToClosedEvent() (*eventResolver, bool) {
	return &eventResolver{t}, t.e.kind == "CLOSED_EVENT"
}
func (t *timelineItem) ToRemovedFromMergeQueueEvent() (*eventResolver, bool) {
	return &eventResolver{t}, t.e.kind == "REMOVED_FROM_MERGE_QUEUE_EVENT"
}

// eventResolver serves the fields of all three event types.
type eventResolver struct{ t *timelineItem }

func (e *eventResolver) Actor() *actorResolver {
	if e.t.e.actor == "" {
		return nil
	}
	return &actorResolver{login: e.t.e.actor}
}
func (e *eventResolver) CreatedAt() dateTime { return dateTime{e.t.e.at} }
func (e *eventResolver) ID() graphql.ID      { return graphql.ID(e.t.id) }
func (e *eventResolver) Reason() *string     { return optString(e.t.e.reason) }
func (e *eventResolver) ReasonCode() *string { return optString(e.t.e.code) }

// actorResolver is the Actor interface; every actor is a User here.
type actorResolver struct{ login string }

func (a *actorResolver) Login() string                 { return a.login }
func (a *actorResolver) ToUser() (*userResolver, bool) { return &userResolver{a.login}, true }

type userResolver struct{ login string }

func (u *userResolver) ID() graphql.ID { return graphql.ID("U_sim_" + u.login) }
func (u *userResolver) Login() string  { return u.login }
