// Package faultproxy is a TCP proxy for tests that stands between a client
// and a real HTTP/1.1 server (the sandbox git server) and breaks chosen
// exchanges the way a network does: it cuts a connection before the request
// reaches the server, cuts it after the server answered (a push applied, its
// answer lost), swallows an answer and keeps the connection silent, or
// accepts a request and never answers at all.
//
// The proxy reads the HTTP/1.1 framing of what passes (request line,
// headers, body length) only to know where one exchange ends and which
// exchange a fault is for; bytes are otherwise passed on as they are. It
// listens on 127.0.0.1 only.
package faultproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Fault is what the proxy does to one exchange.
type Fault int

const (
	// Pass forwards the request and the answer.
	Pass Fault = iota
	// CutBeforeApply closes the client's connection before any of the
	// request reaches the server: nothing is applied.
	CutBeforeApply
	// CutAfterApply forwards the whole request, waits for the server's whole
	// answer (the server has applied a push by then) and closes the client's
	// connection without passing a byte of it on.
	CutAfterApply
	// DropAnswer forwards the whole request, waits for the server's whole
	// answer and throws it away, keeping the client's connection open and
	// silent until the client gives up or the proxy closes.
	DropAnswer
	// Hang reads the request and never forwards or answers it; the
	// connection stays open until the client gives up or the proxy closes.
	Hang
)

func (f Fault) String() string {
	switch f {
	case Pass:
		return "pass"
	case CutBeforeApply:
		return "cut before apply"
	case CutAfterApply:
		return "cut after apply"
	case DropAnswer:
		return "drop answer"
	case Hang:
		return "hang"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Match picks the exchanges a fault is for.
type Match int

const (
	// Any matches every request.
	Any Match = iota
	// Pushes matches git pushes: POST .../git-receive-pack.
	Pushes
)

func (m Match) matches(r *http.Request) bool {
	switch m {
	case Pushes:
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack")
	default:
		return true
	}
}

// Exchange is one request that went through the proxy, as kept by Log.
type Exchange struct {
	Method string
	Path   string
	Fault  Fault // what the proxy did to it
	Status int   // the server's status; 0 when the server was not asked or did not answer
}

// rule is a pending fault: the next times matching exchanges get fault
// (times < 0: every one from now on).
type rule struct {
	match Match
	fault Fault
	times int
}

// Proxy is a running fault-injecting proxy. Its methods are safe for
// concurrent use.
type Proxy struct {
	ln       net.Listener
	upstream string
	done     chan struct{}

	mu     sync.Mutex
	rules  []*rule
	log    []Exchange
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	after  func(Exchange)
}

// Start listens on 127.0.0.1 and forwards every connection to upstream, a
// host:port or an http:// URL whose host is used.
func Start(upstream string) (*Proxy, error) {
	if rest, ok := strings.CutPrefix(upstream, "http://"); ok {
		upstream, _, _ = strings.Cut(rest, "/")
	}
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		return nil, fmt.Errorf("faultproxy: upstream %q: want host:port or http://host:port: %w", upstream, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listening: %w", err)
	}
	p := &Proxy{ln: ln, upstream: upstream, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL rewrites an http:// URL of the upstream server to go through the
// proxy: the host is replaced, the path kept.
func (p *Proxy) URL(serverURL string) string {
	rest, ok := strings.CutPrefix(serverURL, "http://")
	if !ok {
		return serverURL
	}
	_, path, _ := strings.Cut(rest, "/")
	return "http://" + p.Addr() + "/" + path
}

// Inject makes the next times exchanges that m matches get f; times < 0
// means every one from now on. Rules are used in the order given, each until
// spent.
func (p *Proxy) Inject(m Match, f Fault, times int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{match: m, fault: f, times: times})
}

// Clear drops the pending faults: from now on everything passes.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// AfterFault sets a callback run after each faulted exchange has been dealt
// with (for CutAfterApply and DropAnswer: after the server answered), e.g. to
// land another commit before the client looks again. nil removes it.
func (p *Proxy) AfterFault(fn func(Exchange)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after = fn
}

// Log returns the exchanges seen so far, oldest first.
func (p *Proxy) Log() []Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.log...)
}

// Close stops listening, closes every open connection (hung ones included)
// and waits for their handlers.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	<-p.done
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer close(p.done)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			p.handle(c)
		}()
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// take consumes the fault for r.
func (p *Proxy) take(r *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ru := range p.rules {
		if ru.times == 0 || !ru.match.matches(r) {
			continue
		}
		if ru.times > 0 {
			ru.times--
		}
		return ru.fault
	}
	return Pass
}

func (p *Proxy) record(e Exchange) {
	p.mu.Lock()
	p.log = append(p.log, e)
	after := p.after
	p.mu.Unlock()
	if after != nil && e.Fault != Pass {
		after(e)
	}
}

// handle serves one client connection: one upstream connection for it,
// exchanges in turn (HTTP/1.1 keep-alive), each possibly faulted.
func (p *Proxy) handle(client net.Conn) {
	var up net.Conn
	defer func() {
		if up != nil {
			p.untrack(up)
		}
	}()
	cr := bufio.NewReader(client)
	var ur *bufio.Reader
	for {
		req, err := http.ReadRequest(cr)
		if err != nil {
			return
		}
		f := p.take(req)
		ex := Exchange{Method: req.Method, Path: req.URL.Path, Fault: f}
		switch f {
		case CutBeforeApply:
			_ = req.Body.Close()
			p.record(ex)
			return
		case Hang:
			_, _ = io.Copy(io.Discard, req.Body)
			p.record(ex)
			p.silent(client)
			return
		}
		if up == nil {
			if up, err = net.Dial("tcp", p.upstream); err != nil {
				return
			}
			if !p.track(up) {
				return
			}
			ur = bufio.NewReader(up)
		}
		if err := req.Write(up); err != nil {
			return
		}
		resp, err := http.ReadResponse(ur, req)
		if err != nil {
			p.record(ex)
			return
		}
		ex.Status = resp.StatusCode
		if f == CutAfterApply || f == DropAnswer {
			// Read the whole answer: the server is done with the request.
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			p.record(ex)
			if f == DropAnswer {
				p.silent(client)
			}
			return
		}
		err = resp.Write(client)
		_ = resp.Body.Close()
		p.record(ex)
		if err != nil || resp.Close || req.Close {
			return
		}
	}
}

// silent keeps client open and unanswered until it closes its side or the
// proxy closes.
func (p *Proxy) silent(client net.Conn) {
	_, _ = io.Copy(io.Discard, client) // ends with an error once either side closes: nothing to report
}
