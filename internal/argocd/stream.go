package argocd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// streamMsg is what the watch goroutine tells the waiter.
type streamMsg struct {
	app   *Application // an ADDED or MODIFIED event
	state streamState
	err   error // with streamFatal: stop waiting
}

type streamState int

const (
	streamEvent       streamState = iota // app carries an event
	streamDown                           // cut or failed; reconnecting
	streamUnsupported                    // 404/501 or buffering: poll instead
	streamFatal                          // err says why
)

// maxBuffered is how many connections may stay silent before the first
// event before the stream is given up for polling (a buffering proxy).
const maxBuffered = 3

// watch follows /api/v1/stream/applications?name= for one application and
// reports on out until ctx ends, the stream is unsupported or a fatal error.
func (c *Client) watch(ctx context.Context, ref AppRef, spec *WaitSpec, out chan<- streamMsg) {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = spec.ReconnectMin
	bo.MaxInterval = spec.ReconnectMax
	buffered := 0
	relogged := false
	send := func(m streamMsg) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for ctx.Err() == nil {
		got, err := c.watchOnce(ctx, ref, spec, func(app *Application) bool { return send(streamMsg{app: app}) })
		if ctx.Err() != nil {
			return
		}
		var apiErr *APIError
		var authErr *AuthError
		var deleted *deletedError
		switch {
		case errors.As(err, &authErr) && !authErr.Login && c.user != "" && !relogged:
			relogged = true // a session token that expired mid-stream: log in again once
			c.dropSession(c.currentToken())
			continue
		case errors.As(err, &authErr), errors.As(err, &deleted):
			send(streamMsg{state: streamFatal, err: err})
			return
		case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusNotFound || apiErr.StatusCode == http.StatusNotImplemented):
			c.logf("argocd: %s: the watch stream is not available (%d); polling every %s", ref, apiErr.StatusCode, spec.PollInterval)
			send(streamMsg{state: streamUnsupported})
			return
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden:
			send(streamMsg{state: streamFatal, err: &AppNotFoundError{App: ref, err: apiErr}})
			return
		case errors.Is(err, errNoFirstEvent):
			buffered++
			if buffered >= maxBuffered {
				c.logf("argocd: %s: the watch stream delivers nothing (a buffering proxy?); polling every %s", ref, spec.PollInterval)
				send(streamMsg{state: streamUnsupported})
				return
			}
		}
		if got {
			bo.Reset()
			buffered = 0
		}
		if !send(streamMsg{state: streamDown, err: err}) {
			return
		}
		wait := bo.NextBackOff()
		c.logf("argocd: %s: watch stream ended (%v); reconnecting in %s", ref, err, wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

var (
	errNoFirstEvent = errors.New("no event within the first-event timeout")
	errIdle         = errors.New("no data or keepalive within the idle timeout")
	errStreamEnded  = errors.New("the server closed the stream")
)

// watchOnce reads one connection of the stream. It reports whether any
// event arrived, and why the connection ended.
func (c *Client) watchOnce(ctx context.Context, ref AppRef, spec *WaitSpec, emit func(*Application) bool) (bool, error) {
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var why atomic.Pointer[error]
	timer := time.AfterFunc(spec.FirstEventTimeout, func() {
		e := errNoFirstEvent
		why.Store(&e)
		cancel()
	})
	defer timer.Stop()

	q := url.Values{"name": {ref.Name}}
	if ref.Namespace != "" {
		q.Set("appNamespace", ref.Namespace)
	}
	resp, err := c.send(connCtx, http.MethodGet, "/api/v1/stream/applications", q, nil, "text/event-stream")
	if err != nil {
		if p := why.Load(); p != nil {
			return false, *p
		}
		return false, err
	}
	defer resp.Body.Close()

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 32<<20)
	sc.Split(completeLines)
	got := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		switch {
		case len(line) == 0:
			continue
		case line[0] == ':': // keepalive
			if got {
				timer.Reset(spec.IdleTimeout)
			}
			continue
		case bytes.HasPrefix(line, []byte("data:")):
			line = bytes.TrimSpace(line[len("data:"):])
		}
		app, err := decodeStreamEvent(line, ref)
		if err != nil {
			return got, err
		}
		if app == nil {
			continue
		}
		if !got {
			got = true
			e := errIdle
			why.Store(&e)
		}
		timer.Reset(spec.IdleTimeout)
		if !emit(app) {
			return got, ctx.Err()
		}
	}
	if p := why.Load(); p != nil && connCtx.Err() != nil && ctx.Err() == nil {
		return got, *p
	}
	if err := sc.Err(); err != nil {
		return got, fmt.Errorf("reading the watch stream: %w", err)
	}
	return got, errStreamEnded
}

// decodeStreamEvent parses one event: {"result":{"type","application"}} or
// the final error chunk {"error":{"http_code","message",...}}.
func decodeStreamEvent(line []byte, ref AppRef) (*Application, error) {
	var ev struct {
		Result *struct {
			Type        string       `json:"type"`
			Application *Application `json:"application"`
		} `json:"result"`
		Error *struct {
			GRPCCode int    `json:"grpc_code"`
			HTTPCode int    `json:"http_code"`
			Message  string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return nil, fmt.Errorf("decoding a watch event: %w", err)
	}
	if ev.Error != nil {
		apiErr := &APIError{Method: http.MethodGet, Path: "/api/v1/stream/applications", StatusCode: ev.Error.HTTPCode, Code: ev.Error.GRPCCode, Message: ev.Error.Message}
		if apiErr.StatusCode == http.StatusUnauthorized {
			return nil, &AuthError{err: apiErr}
		}
		return nil, apiErr
	}
	if ev.Result == nil || ev.Result.Application == nil {
		return nil, nil
	}
	app := ev.Result.Application
	if app.Metadata.Name != ref.Name || (ref.Namespace != "" && app.Metadata.Namespace != "" && app.Metadata.Namespace != ref.Namespace) {
		return nil, nil
	}
	if ev.Result.Type == "DELETED" {
		return nil, &deletedError{app: ref}
	}
	return app, nil
}

// deletedError is a DELETED event for the application we wait for.
type deletedError struct{ app AppRef }

func (e *deletedError) Error() string {
	return fmt.Sprintf("Argo CD application %s was deleted while waiting for it", e.app)
}

// completeLines splits on '\n' and drops a last line without one: a
// connection cut in the middle of an event must not yield half of it.
func completeLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF {
		return len(data), nil, nil
	}
	return 0, nil, nil
}
