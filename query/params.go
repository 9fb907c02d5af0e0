package query

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
)

// Page sizes: the default and the cap of ?limit=.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// limitParam parses ?limit= (1..maxLimit, default defaultLimit).
func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("limit must be an integer from 1 to %d", maxLimit)
	}
	return n, nil
}

// intParam parses an optional non-negative integer parameter.
func intParam(r *http.Request, name string) (int64, bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false, badRequest("%s must be a non-negative integer", name)
	}
	return n, true, nil
}

// encodeCursor makes an opaque cursor of v.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads ?cursor= into v; false when absent.
func decodeCursor(r *http.Request, v any) (bool, error) {
	s := r.URL.Query().Get("cursor")
	if s == "" {
		return false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, v) != nil {
		return false, badRequest("malformed cursor")
	}
	return true, nil
}
