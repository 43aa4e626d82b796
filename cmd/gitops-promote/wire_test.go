package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/github"
	"github.com/gitops-promote/gitops-promote/internal/gitrepo"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// TestAdaptersMarkWhatPromoteDecidesOn: the adapters turn the packages'
// typed errors into what promote acts on, keeping message and hint.
func TestAdaptersMarkWhatPromoteDecidesOn(t *testing.T) {
	t.Parallel()
	superseded := &github.SupersededError{Number: 3, URL: "https://github.example/pull/3", Ours: "aaaa", Head: "bbbb"}
	network := &gitrepo.NetworkError{Op: "pushing", Err: errors.New("connection reset")}
	type got struct {
		Moved     string
		Retryable bool
		Hint      string
		Msg       string
	}
	see := func(err error) got {
		var g got
		var moved *promote.HeadMovedError
		if errors.As(err, &moved) {
			g.Moved = moved.Head
		}
		var tmp interface{ Temporary() bool }
		g.Retryable = errors.As(err, &tmp) && tmp.Temporary()
		g.Hint, g.Msg = hintOf(err), err.Error()
		return g
	}
	tests := []struct {
		name string
		err  error
		want got
	}{
		{"superseded keeps its words and hint", markGitHub(fmt.Errorf("waiting: %w", superseded)),
			got{Moved: "bbbb", Hint: superseded.Hint(), Msg: "waiting: " + superseded.Error()}},
		{"network fault gets a hint and stays retryable", markGit(network),
			got{Retryable: true, Hint: networkHint, Msg: "pushing: network error: connection reset"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, see(tc.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The git request ceiling follows timeout: a third of it, at least 5 s (or
// the whole timeout when shorter), at most a minute.
func TestRequestCeilingFollowsTimeout(t *testing.T) {
	t.Parallel()
	for timeout, want := range map[time.Duration]time.Duration{
		2 * time.Second:  2 * time.Second,
		10 * time.Second: 5 * time.Second,
		30 * time.Second: 10 * time.Second,
		15 * time.Minute: time.Minute,
		0:                gitrepo.DefaultRequestTimeout,
	} {
		if got := requestCeiling(timeout); got != want {
			t.Errorf("requestCeiling(%s) = %s, want %s", timeout, got, want)
		}
	}
}
