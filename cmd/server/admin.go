package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/jsonhttp"
	"github.com/collabedit/collab/projection"
)

// serveAdmin runs the admin listener (-admin-addr): /metrics,
// /debug/pprof/, POST /admin/revoke and POST /admin/rebuild, apart from the public listener so
// that none of it is reachable by clients. It returns a func that stops
// it and waits for its goroutine. The default address may be taken (a
// second process on the host): that is logged, not fatal.
func serveAdmin(o accessOptions, h *hub.Hub, proj *projection.Projector, reg *prometheus.Registry, log zerolog.Logger) (func(), error) {
	if o.adminAddr == "off" || o.adminAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		if o.adminAddrSet {
			return nil, fmt.Errorf("admin listen: %w", err)
		}
		log.Warn().Err(err).Str("addr", o.adminAddr).Msg("admin listener not started (metrics, pprof, revocation); set -admin-addr")
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	pprofRoutes(mux)
	mux.HandleFunc("POST /admin/revoke", revokeHandler(h, o.revokeTTL))
	if proj != nil {
		mux.HandleFunc("POST /admin/rebuild", rebuildHandler(proj))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxHeaderBytes}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	log.Log().Str("admin_addr", ln.Addr().String()).Msg("admin listening") // at every level: tools wait for it
	return func() {
		_ = srv.Close()
		<-done
	}, nil
}

func pprofRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// revokeRequest is the body of POST /admin/revoke: a user (sub) or a
// token (jti), and until when (default: now + -revoke-ttl).
type revokeRequest struct {
	Subject string    `json:"sub"`
	TokenID string    `json:"jti"`
	Until   time.Time `json:"until"`
}

// revokeHandler revokes, through the hub, so every process closes the
// sockets concerned; it answers {"closed": n, "until": …} with the number
// closed on this process.
func revokeHandler(h *hub.Hub, ttl time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req revokeRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			jsonhttp.Write(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"sub\": …} or {\"jti\": …}, with an optional \"until\""})
			return
		}
		if req.Until.IsZero() {
			req.Until = time.Now().Add(ttl)
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		n, err := h.Revoke(ctx, auth.Revocation{Subject: req.Subject, TokenID: req.TokenID, Until: req.Until})
		switch {
		case errors.Is(err, hub.ErrBadRevocation):
			jsonhttp.Write(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		case err != nil:
			jsonhttp.Write(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error(), "closed": n})
		default:
			jsonhttp.Write(w, http.StatusOK, map[string]any{"closed": n, "until": req.Until})
		}
	}
}
