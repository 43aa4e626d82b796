package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/config"
)

// sessionSniffer is the transport under the Argo CD client when it logs in
// with a username: it reads the token of a successful POST /api/v1/session
// answer and hands it to onToken before the client sees it.
type sessionSniffer struct {
	base    http.RoundTripper
	onToken func(token string)
}

// maxSessionAnswer bounds the login answer read here (it is a small JSON object).
const maxSessionAnswer = 1 << 20

// RoundTrip implements http.RoundTripper.
func (s *sessionSniffer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/api/v1/session") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSessionAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the Argo CD login answer: %w", err)
	}
	var out struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(body, &out) == nil && out.Token != "" {
		s.onToken(out.Token)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// argoTransport is the transport argocd.New builds for argocd-ca and
// argocd-insecure, for the login path where cmd supplies the HTTP client.
func argoTransport(cfg *config.Config) (http.RoundTripper, error) {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if def, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = def.Clone()
	}
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.ArgoCDInsecure} //nolint:gosec // asked for by argocd-insecure
	if cfg.ArgoCDCA != "" {
		pem, err := os.ReadFile(cfg.ArgoCDCA)
		if err != nil {
			return nil, &usageError{msg: fmt.Sprintf("%s: reading %q: %v", config.InArgoCDCA, cfg.ArgoCDCA, err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &usageError{msg: fmt.Sprintf("%s: %q holds no PEM certificate", config.InArgoCDCA, cfg.ArgoCDCA)}
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return tr, nil
}
