package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/collabedit/collab/protocol"
)

// securityHeaders are sent with every page and asset. The CSP allows
// only this origin's scripts, styles and sockets ('self' covers ws: and
// wss: of the same host): names and colours from other people are put
// into the page as text and checked colours, never as markup.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "same-origin",
}

// contentTypes fixes the types of the client's own files instead of
// taking them from the host's mime.types, which varies: module scripts
// must be served with a JavaScript type or browsers refuse them.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// file is one embedded file, ready to serve.
type file struct {
	name  string
	body  []byte
	ctype string
	etag  string
	csp   string // the Content-Security-Policy when not the default
}

// Handler serves the browser client (see the package documentation).
type Handler struct {
	files map[string]*file // by name, e.g. "editor.js"
}

// NewHandler reads the embedded files and returns their handler.
func NewHandler() (*Handler, error) {
	h := &Handler{files: make(map[string]*file)}
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(FS, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(body)
		ctype := contentTypes[path.Ext(p)]
		if ctype == "" {
			ctype = mime.TypeByExtension(path.Ext(p))
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.files[p] = &file{name: p, body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
			csp: importMapCSP(body)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	for _, need := range []string{"index.html", "editor.html", "404.html"} {
		if h.files[need] == nil {
			return nil, fmt.Errorf("static files: %s is missing", need)
		}
	}
	return h, nil
}

// ServeHTTP implements http.Handler for GET and HEAD.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/":
		h.serve(w, r, h.files["index.html"], http.StatusOK)
	case strings.HasPrefix(p, "/d/"):
		h.serveEditor(w, r, strings.TrimPrefix(p, "/d/"))
	default:
		f := h.files[strings.TrimPrefix(p, "/")]
		if f == nil {
			h.serve(w, r, h.files["404.html"], http.StatusNotFound)
			return
		}
		h.serve(w, r, f, http.StatusOK)
	}
}

// serveEditor serves the editor page for a valid document id, the 404
// page otherwise (the page itself could not open such a document).
func (h *Handler) serveEditor(w http.ResponseWriter, r *http.Request, id string) {
	if protocol.ValidateDocID(id) != nil {
		h.serve(w, r, h.files["404.html"], http.StatusNotFound)
		return
	}
	h.serve(w, r, h.files["editor.html"], http.StatusOK)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, f *file, status int) {
	hd := w.Header()
	for k, v := range securityHeaders {
		hd.Set(k, v)
	}
	if f.csp != "" {
		hd.Set("Content-Security-Policy", f.csp)
	}
	hd.Set("Content-Type", f.ctype)
	// Revalidate every time: a deploy takes effect at once, and an
	// unchanged file costs a 304 with no body (the ETag is its hash).
	hd.Set("Cache-Control", "no-cache")
	if status != http.StatusOK {
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(f.body)
		}
		return
	}
	hd.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// importMapRE finds an inline import map (the example pages map
// CodeMirror's bare specifiers with one; an import map cannot be a file).
var importMapRE = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)

// importMapCSP returns the Content-Security-Policy for a page with inline
// import maps: the default one, with each map allowed by its hash (no
// other inline script runs), or "" for a page without any.
func importMapCSP(body []byte) string {
	var hashes []string
	for _, m := range importMapRE.FindAllSubmatch(body, -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(hashes) == 0 {
		return ""
	}
	return securityHeaders["Content-Security-Policy"] + "; script-src 'self' " + strings.Join(hashes, " ")
}
