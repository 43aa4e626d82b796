package argocdsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/session", s.handleSession)
	mux.HandleFunc("GET /api/v1/applications/{name}", s.authed(s.handleGet))
	mux.HandleFunc("POST /api/v1/applications/{name}/sync", s.authed(s.handleSync))
	mux.HandleFunc("GET /api/v1/applications/{name}/managed-resources", s.authed(s.handleManagedResources))
	mux.HandleFunc("GET /api/v1/stream/applications", s.handleStream)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 5, "Not Found")
	})
	return s.guard(mux)
}

// guard answers 503 during a Fail503 window and 415 to a non-GET request
// whose Content-Type is not exactly application/json, as argocd-server.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.cfg.clock().Before(s.downTill)
		s.mu.Unlock()
		if down {
			writeError(w, http.StatusServiceUnavailable, 14, "connection error: desc = \"transport: Error while dialing: dial tcp 10.96.0.12:8083: connect: connection refused\"")
			return
		}
		if r.Method != http.MethodGet && r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "Invalid content type", http.StatusUnsupportedMediaType)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Error: msg, Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, 3, "invalid request body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want, ok := s.cfg.users[req.Username]
	if !ok || want != req.Password || req.Password == "" {
		writeError(w, http.StatusUnauthorized, 16, "Invalid username or password")
		return
	}
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + randomHex(24) + "." + randomHex(16)
	s.tokens[tok] = true
	writeJSON(w, map[string]string{"token": tok})
}

// authError returns the 401 message for the request's credentials, or "".
func (s *Server) authError(r *http.Request) string {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" || tok == r.Header.Get("Authorization") {
		tok = ""
		if c, err := r.Cookie("argocd.token"); err == nil {
			tok = c.Value
		}
	}
	if tok == "" {
		return "no session information"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.tokens[tok]:
		return ""
	case s.expired[tok]:
		return "invalid session: token has invalid claims: token is expired"
	case strings.Count(tok, ".") == 2:
		// A JWT that Argo CD did not issue: v3.2.11 takes it for an SSO token.
		return "invalid session: SSO is not configured"
	}
	return "no session information" // not a JWT at all: v3.2.11 answers as if none was sent
}

func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if msg := s.authError(r); msg != "" {
			writeError(w, http.StatusUnauthorized, 16, msg)
			return
		}
		h(w, r)
	}
}

// lookup finds an application by name and appNamespace ("" = controller's).
func (s *Server) lookup(name, ns string) *appState {
	if ns == "" {
		ns = s.cfg.controllerNS
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apps[appKey{ns, name}]
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	a := s.lookup(r.PathValue("name"), r.URL.Query().Get("appNamespace"))
	if a == nil {
		writeError(w, http.StatusForbidden, 7, "permission denied")
		return
	}
	if q := r.URL.Query(); q.Has("refresh") {
		s.reconcile(r.Context(), a, q.Get("refresh") == "hard")
	}
	s.mu.Lock()
	data, err := json.Marshal(a.snapshot()) // encoded under the lock: the state shares slices
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, 2, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	var req syncRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, 3, "invalid request body: "+err.Error())
		return
	}
	a := s.lookup(r.PathValue("name"), req.AppNamespace)
	if a == nil {
		writeError(w, http.StatusForbidden, 7, "permission denied")
		return
	}
	target := req.Revision
	if target == "" {
		target = "refs/heads/" + a.cfg.TargetRevision
	} else if a.cfg.AutoSync && req.Revision != a.cfg.TargetRevision && !req.DryRun {
		msg := fmt.Sprintf("Cannot sync to %s: auto-sync currently set to %s", req.Revision, a.cfg.TargetRevision)
		writeError(w, http.StatusBadRequest, 9, msg)
		return
	}
	rev, err := resolve(r.Context(), a.cfg.BareRepoDir, target)
	if err != nil {
		writeError(w, http.StatusBadRequest, 3, "application spec for "+a.cfg.Name+" is invalid: InvalidSpecError: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.op != nil {
		writeError(w, http.StatusBadRequest, 9, "another operation is already in progress")
		return
	}
	s.startOp(a, rev, false)
	s.changed(a)
	writeJSON(w, a.snapshot()) // s.mu is held until the answer is written
}

// handleStream serves /api/v1/stream/applications?name=: server-sent
// events with Accept: text/event-stream (keepalives, initial ADDED),
// newline-delimited JSON otherwise; silence for an unknown app.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	if s.cfg.noStream {
		writeError(w, http.StatusNotFound, 5, "Not Found")
		return
	}
	sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	frame := func(data []byte) []byte {
		if sse {
			return []byte("data: " + string(data) + " \n\n\n")
		}
		return append(data, '\n')
	}
	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	var out io.Writer = w
	if s.cfg.bufferStream {
		// A buffering proxy: nothing reaches the client before the
		// stream ends.
		var held bytes.Buffer
		out, flush = &held, func() {}
		defer func() { _, _ = w.Write(held.Bytes()) }()
	}
	if msg := s.authError(r); msg != "" {
		data, _ := json.Marshal(map[string]any{"error": map[string]any{"grpc_code": 16, "http_code": 401, "message": msg, "http_status": "Unauthorized"}})
		_, _ = out.Write(frame(data))
		flush()
		return
	}
	a := s.lookup(r.URL.Query().Get("name"), r.URL.Query().Get("appNamespace"))
	sub := &subscriber{ch: make(chan []byte, 64), gone: make(chan struct{})}
	s.mu.Lock()
	cut := s.cut
	var first []byte
	if a != nil {
		a.subs[sub] = struct{}{}
		first, _ = json.Marshal(map[string]any{"result": map[string]any{"type": "ADDED", "application": a.snapshot()}})
	}
	s.mu.Unlock()
	defer func() {
		if a != nil {
			s.mu.Lock()
			delete(a.subs, sub)
			s.mu.Unlock()
		}
	}()
	w.WriteHeader(http.StatusOK)
	if first != nil {
		_, _ = out.Write(frame(first))
	}
	flush()

	var drop <-chan time.Time
	if s.cfg.streamDrop > 0 {
		t := time.NewTimer(s.cfg.streamDrop)
		defer t.Stop()
		drop = t.C
	}
	var keep <-chan time.Time
	if sse {
		t := time.NewTicker(s.cfg.keepalive)
		defer t.Stop()
		keep = t.C
	}
	for {
		select {
		case data := <-sub.ch:
			if _, err := out.Write(frame(data)); err != nil {
				return
			}
			flush()
		case <-keep:
			if _, err := out.Write([]byte(":\n")); err != nil {
				return
			}
			flush()
		case <-sub.gone:
			return
		case <-drop:
			return
		case <-cut:
			return
		case <-s.ctx.Done():
			return
		case <-r.Context().Done():
			return
		}
	}
}
