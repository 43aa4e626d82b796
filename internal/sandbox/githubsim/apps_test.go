package githubsim

import (
	"crypto/rand"
	"crypto/rsa"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// appJWT signs an App JWT as Argo CD's github service does (fixtures
// *.github.access-token.json: RS256, iss the App ID as a string, iat 30 s
// back).
func appJWT(t *testing.T, key *rsa.PrivateKey, iss string, exp time.Duration) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: iss, IssuedAt: jwt.NewNumericDate(now.Add(-30 * time.Second)), ExpiresAt: jwt.NewNumericDate(now.Add(exp)),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAppTradesItsJWTForAnInstallationToken(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddApp(App{ID: 12345, Slug: "argocd-notifications", InstallationID: 67890, PublicKey: &key.PublicKey}); err != nil {
		t.Fatal(err)
	}
	main, _ := heads(t, s)
	// Argo CD's client: enterpriseBaseURL <sim>/api/v3.
	const tokens = "/api/v3/app/installations/67890/access_tokens"
	refused := []struct {
		name, path, jwt, msg string
		code                 int
	}{
		{"signed by another key", tokens, appJWT(t, other, "12345", 2*time.Minute), "A JSON web token could not be decoded", 401},
		{"unknown App ID", tokens, appJWT(t, key, "999", 2*time.Minute), "A JSON web token could not be decoded", 401},
		{"expired", tokens, appJWT(t, key, "12345", -2*time.Minute), "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires", 401},
		{"exp too far ahead", tokens, appJWT(t, key, "12345", 20*time.Minute), "'Expiration time' claim ('exp') is too far in the future", 401},
		{"another installation", "/api/v3/app/installations/1/access_tokens", appJWT(t, key, "12345", 2*time.Minute), "Not Found", 404},
	}
	for _, tc := range refused {
		code, got := do(t, s, "POST", tc.path, tc.jwt, nil)
		if code != tc.code || got["message"] != tc.msg {
			t.Errorf("%s: %d %v, want %d %q", tc.name, code, got["message"], tc.code, tc.msg)
		}
	}
	// The JWT itself is not a token the REST API takes.
	jwtTok := appJWT(t, key, "12345", 2*time.Minute)
	if code, _ := do(t, s, "POST", "/api/v3/repos/acme/config/statuses/"+main, jwtTok, map[string]any{"state": "success"}); code != 401 {
		t.Errorf("a status posted with the App JWT: %d, want 401", code)
	}
	code, got := do(t, s, "POST", tokens, jwtTok, nil)
	tok, _ := got["token"].(string)
	if code != 201 || len(tok) < 10 || tok[:4] != "ghs_" {
		t.Fatalf("access token: %d %v", code, got)
	}
	exp, err := time.Parse(time.RFC3339, got["expires_at"].(string))
	if err != nil || time.Until(exp) < 59*time.Minute || time.Until(exp) > 61*time.Minute {
		t.Errorf("expires_at %v (%v), want an hour ahead", got["expires_at"], err)
	}
	code, st := do(t, s, "POST", "/api/v3/repos/acme/config/statuses/"+main, tok,
		map[string]any{"state": "success", "context": "continuous-delivery/dev", "description": "Application dev deployed at " + main + "."})
	creator, _ := st["creator"].(map[string]any)
	if code != 201 || creator["login"] != "argocd-notifications[bot]" || creator["type"] != "Bot" {
		t.Fatalf("status with the installation token: %d %v", code, st)
	}
	written, err := s.StatusesOf("acme/config", main)
	if err != nil || len(written) != 1 || written[0].Context != "continuous-delivery/dev" || time.Since(written[0].Created) > time.Minute {
		t.Errorf("StatusesOf = %+v, %v", written, err)
	}
	// A made-up token of the same shape is refused.
	if code, _ := do(t, s, "GET", "/repos/acme/config/commits/"+main+"/statuses", "ghs_"+strconv.Itoa(67890), nil); code != 401 {
		t.Errorf("an unissued ghs_ token: %d, want 401", code)
	}
}
