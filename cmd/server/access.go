package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
)

// secretEnv names the environment variable that may hold the HS256 secret
// (rather than a flag, which would show it in the process list).
const secretEnv = "COLLAB_AUTH_SECRET"

// accessOptions are the -auth* and -admin-addr settings.
type accessOptions struct {
	mode           string // none, token or webhook
	insecureOpen   bool
	secretFile     string
	keysFile       string
	webhookURL     string
	webhookTimeout time.Duration
	leeway         time.Duration
	issuer         string
	audience       string
	revokeTTL      time.Duration
	linkMaxTTL     time.Duration
	adminAddr      string
	adminAddrSet   bool // given explicitly: failing to listen on it is fatal
}

func addAccessFlags(fs *flag.FlagSet, a *accessOptions, h *hub.Config, d hub.Config) {
	fs.StringVar(&a.mode, "auth", "none", "access control: none (local development: every connection is an anonymous writer; loopback only unless -auth-insecure-open), token (signed JWTs checked locally) or webhook (-auth-url decides)")
	fs.BoolVar(&a.insecureOpen, "auth-insecure-open", false, "with -auth none: listen on a non-loopback address anyway, letting anyone who can reach it read and write every document")
	fs.StringVar(&a.secretFile, "auth-secret-file", "", "file holding the HS256 secret (at least 32 bytes) that verifies tokens and signs share links; or set $"+secretEnv)
	fs.StringVar(&a.keysFile, "auth-keys", "", "PEM or JWKS file of public keys (EdDSA, RS256, ES256) that verify tokens from an identity provider; several keys, chosen by kid, allow rotation")
	fs.StringVar(&a.webhookURL, "auth-url", "", "with -auth webhook: the URL that receives {token, doc, remote} and answers {allow, role, sub, name, cacheSeconds}")
	fs.DurationVar(&a.webhookTimeout, "auth-webhook-timeout", auth.DefaultWebhookTimeout, "with -auth webhook: how long a call may take; a timeout refuses with unavailable")
	fs.DurationVar(&a.leeway, "auth-leeway", auth.DefaultLeeway, "clock skew allowed on a token's exp and nbf")
	fs.StringVar(&a.issuer, "auth-issuer", "", "when set, a token's iss must equal it")
	fs.StringVar(&a.audience, "auth-audience", "", "when set, a token's aud must contain it")
	fs.DurationVar(&a.revokeTTL, "revoke-ttl", 24*time.Hour, "how long a revocation given without \"until\" lasts (set it to your longest token lifetime)")
	fs.DurationVar(&a.linkMaxTTL, "link-max-ttl", 30*24*time.Hour, "longest lifetime of a share link")
	fs.StringVar(&a.adminAddr, "admin-addr", "localhost:9090", "admin listener: /metrics, /debug/pprof/ and POST /admin/revoke; keep it on loopback or a private network; \"off\": none")
	fs.DurationVar(&h.AuthTimeout, "auth-timeout", d.AuthTimeout, "close a connection that has not presented a valid token within this long (4401)")
	fs.DurationVar(&h.ExpiryWarning, "auth-expiry-warning", d.ExpiryWarning, "warn a connection this long before its token expires; it is closed at expiry unless it sent a fresh one (4401)")
}

// access is what the -auth settings built: the hub's authenticator (nil
// in mode none) and the minter of share links (nil without a secret).
type access struct {
	mode   string
	authn  hub.Authenticator
	tokens *auth.Tokens // mode token
	minter *auth.Minter
	opts   accessOptions
}

// errInsecure refuses mode none on an address others can reach.
var errInsecure = errors.New("-auth none lets anyone who can connect read and write every document")

func newAccess(a accessOptions) (*access, error) {
	acc := &access{mode: a.mode, opts: a}
	secret, err := readSecret(a.secretFile)
	if err != nil {
		return nil, err
	}
	if secret != nil {
		acc.minter = &auth.Minter{Secret: secret, Issuer: a.issuer}
	}
	switch a.mode {
	case "none":
		return acc, nil
	case "token":
		keys := auth.Keys{Secret: secret}
		if a.keysFile != "" {
			if keys.Public, err = auth.ReadPublicKeys(a.keysFile); err != nil {
				return nil, err
			}
		}
		if keys.Secret == nil && len(keys.Public) == 0 {
			return nil, fmt.Errorf("-auth token needs a secret (-auth-secret-file or $%s) or public keys (-auth-keys)", secretEnv)
		}
		acc.tokens = &auth.Tokens{Verifier: &auth.Verifier{Keys: keys, Leeway: a.leeway, Issuer: a.issuer, Audience: a.audience}}
		acc.authn = acc.tokens
	case "webhook":
		if a.webhookURL == "" {
			return nil, errors.New("-auth webhook needs -auth-url")
		}
		acc.authn = &auth.Webhook{URL: a.webhookURL, Timeout: a.webhookTimeout}
	default:
		return nil, fmt.Errorf("-auth %q: want none, token or webhook", a.mode)
	}
	return acc, nil
}

// readSecret reads the HS256 secret from the file, else the environment;
// nil when neither is set.
func readSecret(file string) ([]byte, error) {
	if file == "" && os.Getenv(secretEnv) == "" {
		return nil, nil
	}
	return auth.ReadSecret(file, secretEnv)
}

// checkExposure refuses mode none on a listener that is not loopback-only,
// unless the operator said so.
func (acc *access) checkExposure(addr net.Addr) error {
	if acc.mode != "none" || acc.opts.insecureOpen {
		return nil
	}
	tcp, ok := addr.(*net.TCPAddr)
	if ok && tcp.IP.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s: %w; use -auth token (see docs/security.md), or listen on localhost, or pass -auth-insecure-open", addr, errInsecure)
}
