package githubsim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GitHub Apps: an app signs a JWT (RS256) with its private key and trades
// it for an installation access token, which the REST API then accepts as
// "token <t>". See BEHAVIOURS.md:
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app,
// https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app

// App is a GitHub App known to the simulator, installed once on its repositories.
type App struct {
	ID             int64          // the App ID, the JWT's iss
	Slug           string         // statuses it sets show "<slug>[bot]" as creator
	InstallationID int64          // the one installation
	PublicKey      *rsa.PublicKey // verifies the JWT's signature
}

// accessTokensRoute is the one route that takes an App JWT instead of a token.
const accessTokensRoute = "POST /app/installations/{id}/access_tokens"

// errExpTooFar: GitHub refuses a JWT that expires more than 10 minutes ahead.
var errExpTooFar = errors.New("the App JWT expires more than 10 minutes ahead")

// installationTokenTTL is how long an installation token lives on GitHub.
const installationTokenTTL = time.Hour

// apps holds the registered Apps and the installation tokens issued; its
// own lock, so that auth can be asked while s.mu is held.
type apps struct {
	mu     sync.Mutex
	byID   map[int64]App
	tokens map[string]issued
}

type issued struct {
	bot     string // "<slug>[bot]"
	expires time.Time
}

// AddApp registers a GitHub App and its installation: a JWT it signs may
// then be traded for an installation token at POST
// /app/installations/{id}/access_tokens (also under /api/v3).
func (s *Server) AddApp(a App) error {
	if a.ID <= 0 || a.InstallationID <= 0 || a.PublicKey == nil || a.Slug == "" {
		return errors.New("adding a GitHub App: ID, InstallationID, Slug and PublicKey are required")
	}
	s.apps.mu.Lock()
	defer s.apps.mu.Unlock()
	if s.apps.byID == nil {
		s.apps.byID, s.apps.tokens = map[int64]App{}, map[string]issued{}
	}
	s.apps.byID[a.ID] = a
	return nil
}

// installationBot is the bot login of a valid installation token, "" for
// any other token.
func (s *Server) installationBot(tok string) string {
	s.apps.mu.Lock()
	defer s.apps.mu.Unlock()
	it, ok := s.apps.tokens[tok]
	if !ok || !s.now().Before(it.expires) {
		return ""
	}
	return it.bot
}

// requestBot is the bot login when r carries an installation token.
func (s *Server) requestBot(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "bearer ", "token "} {
		if tok, ok := strings.CutPrefix(h, scheme); ok {
			return s.installationBot(tok)
		}
	}
	return ""
}

// createAccessToken answers POST /app/installations/{id}/access_tokens: a
// JWT of a registered App (RS256, iss the App ID, exp at most 10 minutes
// ahead) gets a token for the App's installation, valid one hour.
func (s *Server) createAccessToken(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/apps/apps#create-an-installation-access-token-for-an-app"
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeJSON(w, http.StatusUnauthorized, apiError{Message: "A JSON web token could not be decoded", DocumentationURL: doc, Status: "401"})
		return
	}
	app, err := s.verifyAppJWT(bearer)
	if err != nil {
		s.logf("github: app JWT refused: %v", err)
		msg := "A JSON web token could not be decoded"
		switch {
		case errors.Is(err, errExpTooFar):
			msg = "'Expiration time' claim ('exp') is too far in the future"
		case errors.Is(err, jwt.ErrTokenExpired):
			msg = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
		}
		writeJSON(w, http.StatusUnauthorized, apiError{Message: msg, DocumentationURL: doc, Status: "401"})
		return
	}
	if strconv.FormatInt(app.InstallationID, 10) != r.PathValue("id") {
		notFound(w, doc)
		return
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Message: "Server Error"})
		return
	}
	tok := "ghs_" + hex.EncodeToString(b)
	expires := s.now().Add(installationTokenTTL)
	s.apps.mu.Lock()
	s.apps.tokens[tok] = issued{bot: app.Slug + "[bot]", expires: expires}
	s.apps.mu.Unlock()
	s.logf("github: installation token issued to app %d (installation %d)", app.ID, app.InstallationID)
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": tok, "expires_at": expires.UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"statuses": "write", "deployments": "write", "checks": "write", "contents": "read", "metadata": "read"},
		"repository_selection": "all",
	})
}

// verifyAppJWT checks an App JWT as GitHub does and returns its App.
func (s *Server) verifyAppJWT(raw string) (App, error) {
	var app App
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		c, ok := t.Claims.(*jwt.RegisteredClaims)
		if !ok {
			return nil, errors.New("no claims")
		}
		id, err := strconv.ParseInt(c.Issuer, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("iss %q is not an App ID", c.Issuer)
		}
		s.apps.mu.Lock()
		a, known := s.apps.byID[id]
		s.apps.mu.Unlock()
		if !known {
			return nil, fmt.Errorf("no App with ID %d", id)
		}
		app = a
		return a.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now), jwt.WithLeeway(time.Minute))
	if err != nil {
		return App{}, fmt.Errorf("decoding the App JWT: %w", err)
	}
	if claims.ExpiresAt.Sub(s.now()) > 10*time.Minute {
		return App{}, errExpTooFar
	}
	return app, nil
}

// WrittenStatus is a commit status as the simulator keeps it, with the
// moment it was written (for measuring how soon a reader saw it).
type WrittenStatus struct {
	CommitStatus
	Created time.Time
}

// StatusesOf lists the commit statuses written on sha, oldest first.
func (s *Server) StatusesOf(repo, sha string) ([]WrittenStatus, error) {
	var out []WrittenStatus
	err := s.withRepo(repo, func(r *repoState) error {
		for _, c := range r.statuses[sha] {
			out = append(out, WrittenStatus{CommitStatus: c.CommitStatus, Created: c.created})
		}
		return nil
	})
	return out, err
}
