package ghstatus

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"sync"
)

// etagCache is a RoundTripper that makes every GET conditional: it keeps
// the last 200 answer of each URL with its ETag, sends If-None-Match, and
// answers a 304 from the kept copy. GitHub does not count a 304 against
// the rate limit. It also counts what GitHub answered (a request cut
// before an answer, as when the wait ends, is not known to count).
type etagCache struct {
	base http.RoundTripper

	mu          sync.Mutex
	kept        map[string]keptAnswer
	sent        int // requests GitHub answered
	notModified int // of those, answered 304
}

type keptAnswer struct {
	etag string
	dump []byte // the whole 200 answer, as httputil.DumpResponse writes it
}

func newETagCache(base http.RoundTripper) *etagCache {
	return &etagCache{base: base, kept: map[string]keptAnswer{}}
}

func (c *etagCache) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.URL.String()
	c.mu.Lock()
	k, have := c.kept[key]
	c.mu.Unlock()
	if req.Method != http.MethodGet {
		have = false
	} else if have {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", k.etag)
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.sent++
	c.mu.Unlock()
	if req.Method != http.MethodGet {
		return resp, nil
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && have:
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.mu.Lock()
		c.notModified++
		c.mu.Unlock()
		return http.ReadResponse(bufio.NewReader(bytes.NewReader(k.dump)), req)
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		dump, err := httputil.DumpResponse(resp, true)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.kept[key] = keptAnswer{etag: resp.Header.Get("ETag"), dump: dump}
		c.mu.Unlock()
		return http.ReadResponse(bufio.NewReader(bytes.NewReader(dump)), req)
	}
	return resp, nil
}

// counted is the number of requests GitHub answered and the number it
// counts against the rate limit: all but the 304 answers.
func (c *etagCache) counted() (sent, counted int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.sent - c.notModified
}
