package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/jsonhttp"
	"github.com/collabedit/collab/protocol"
)

// announce says at start what access control is in force.
func (acc *access) announce(log zerolog.Logger) {
	switch acc.mode {
	case "none":
		log.Warn().Msg("access control is off (-auth none): every connection is an anonymous writer of every document; for local development only")
	case "token":
		log.Info().Bool("secret", acc.minter != nil).Int("public_keys", len(acc.tokens.Verifier.Keys.Public)).Msg("access control: signed tokens")
	case "webhook":
		log.Info().Str("url", acc.opts.webhookURL).Msg("access control: webhook")
	}
}

// listFilter is the document list's access: in mode none every document;
// otherwise those the request's token may read, and 401 without one.
func (acc *access) listFilter(h *hub.Hub) func(r *http.Request) (func(string) bool, int, string) {
	if acc.authn == nil {
		return nil
	}
	return func(r *http.Request) (func(string) bool, int, string) {
		id, token, status, err := h.Authenticate(r)
		if err != nil {
			return nil, status, "token refused: " + err.Error()
		}
		return func(doc string) bool { return h.Authorize(r, id, token, doc) >= auth.Read }, 0, ""
	}
}

// linkRequest is the body of POST /api/docs/{doc}/links.
type linkRequest struct {
	Role      string `json:"role"`      // "read" or "write"
	ExpiresIn string `json:"expiresIn"` // a Go duration: "24h", "168h"
}

// shareLink mints a share link for an owner of the document: a token
// granting only that document, in the role asked, until the expiry asked
// (at most -link-max-ttl). The browser puts it in the URL's fragment,
// which is never sent to a server.
func (acc *access) shareLink(h *hub.Hub) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc := r.PathValue("doc")
		if err := protocol.ValidateDocID(doc); err != nil {
			jsonhttp.Write(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if acc.minter == nil || acc.tokens == nil {
			jsonhttp.Write(w, http.StatusNotImplemented, map[string]string{"error": "share links need -auth token with a secret (-auth-secret-file or $" + secretEnv + ")"})
			return
		}
		id, token, status, err := h.Authenticate(r)
		if err != nil {
			jsonhttp.Write(w, status, map[string]string{"error": "token refused: " + err.Error()})
			return
		}
		if h.Authorize(r, id, token, doc) < auth.Owner {
			jsonhttp.Write(w, http.StatusForbidden, map[string]string{"error": "only an owner of this document may share it"})
			return
		}
		var req linkRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			jsonhttp.Write(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"role\": \"read\"|\"write\", \"expiresIn\": \"24h\"}"})
			return
		}
		role, err := auth.ParseRole(req.Role)
		ttl, terr := time.ParseDuration(req.ExpiresIn)
		switch {
		case err != nil || role > auth.Write:
			jsonhttp.Write(w, http.StatusBadRequest, map[string]string{"error": "role must be read or write"})
			return
		case terr != nil || ttl <= 0 || ttl > acc.opts.linkMaxTTL:
			jsonhttp.Write(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("expiresIn must be a duration up to %v", acc.opts.linkMaxTTL)})
			return
		}
		linkID := auth.NewID()
		name := "Guest"
		if role == auth.Read {
			name = "Viewer"
		}
		// Guest: each visitor names itself (shown marked as a guest's);
		// name is for one who does not.
		tok, err := acc.minter.Mint(auth.Identity{Subject: "link:" + linkID, Name: name, TokenID: linkID, Grants: auth.Grants{doc: role}, Guest: true}, ttl)
		if err != nil {
			jsonhttp.Write(w, http.StatusInternalServerError, map[string]string{"error": "could not sign the link"})
			return
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{
			"url":     "/d/" + url.PathEscape(doc) + "#token=" + tok,
			"token":   tok,
			"jti":     linkID,
			"role":    role.String(),
			"expires": time.Now().Add(ttl).UTC().Format(time.RFC3339),
		})
	}
}
