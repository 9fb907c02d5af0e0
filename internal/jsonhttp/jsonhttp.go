// Package jsonhttp writes the JSON answers of the server's HTTP API, so
// that every one carries the same headers: a JSON content type, no
// caching (an answer describes documents that change with every edit,
// and may be private to one token), and nosniff (a browser never runs an
// answer as anything but JSON). The catalog, the query API, the command
// routes and the admin listener all answer through Write. It holds no
// state; Write is safe for concurrent use.
package jsonhttp

import (
	"encoding/json"
	"net/http"
)

// Write answers status with body encoded as JSON. An encoding failure
// after the header is sent cannot be reported to the client any more; the
// bodies written here are plain structs and maps, which always encode.
func Write(w http.ResponseWriter, status int, body any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
