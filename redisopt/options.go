package redisopt

import (
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The fast-fail settings described in the package documentation, shared
// by the single-node and the cluster options.
const (
	dialTimeout   = time.Second
	dialerRetries = 2
	ioTimeout     = time.Second // ReadTimeout and WriteTimeout
	poolTimeout   = time.Second
	// maxRetries is the single-node client's retry count.
	maxRetries = 1
	// maxRedirects is the cluster client's: see the package doc.
	maxRedirects = 1
	// stateReload is how often a cluster client reloads its slot map.
	stateReload = time.Second
)

// Cluster URL schemes: redis+cluster://host:port,host:port (rediss+ for
// TLS). A cluster has no database number, so the URL has no path.
const (
	clusterScheme    = "redis+cluster://"
	clusterTLSScheme = "rediss+cluster://"
)

// Parse parses a redis:// URL (as redis.ParseURL does) and sets the
// timeouts and retries described in the package documentation, so that
// every operation of a client built from the result fails within about
// 2 s while Redis is unreachable.
func Parse(url string) (*redis.Options, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisopt: parse redis url: %w", err)
	}
	opt.DialTimeout = dialTimeout
	opt.DialerRetries = dialerRetries
	opt.ReadTimeout = ioTimeout
	opt.WriteTimeout = ioTimeout
	opt.PoolTimeout = poolTimeout
	opt.MaxRetries = maxRetries
	opt.ContextTimeoutEnabled = true
	return opt, nil
}

// IsCluster reports whether url names a Redis Cluster
// (redis+cluster:// or rediss+cluster://) rather than one server.
func IsCluster(url string) bool {
	return strings.HasPrefix(url, clusterScheme) || strings.HasPrefix(url, clusterTLSScheme)
}

// ParseCluster parses a cluster URL,
//
//	redis+cluster://[user:password@]host:port[,host:port…][?option=value…]
//
// whose hosts are seed nodes (any few nodes of the cluster; the client
// learns the others from them) and whose query options are those of
// redis.ParseClusterURL, and sets the same fast-fail timeouts as Parse
// plus the cluster settings described in the package documentation.
func ParseCluster(url string) (*redis.ClusterOptions, error) {
	scheme := "redis://"
	rest, ok := strings.CutPrefix(url, clusterScheme)
	if !ok {
		if rest, ok = strings.CutPrefix(url, clusterTLSScheme); !ok {
			return nil, fmt.Errorf("redisopt: parse cluster url: scheme is not %s or %s", clusterScheme, clusterTLSScheme)
		}
		scheme = "rediss://"
	}
	hosts, query, _ := strings.Cut(rest, "?")
	var user string
	if i := strings.LastIndex(hosts, "@"); i >= 0 {
		user, hosts = hosts[:i+1], hosts[i+1:]
	}
	if strings.Contains(hosts, "/") {
		return nil, fmt.Errorf("redisopt: parse cluster url: a cluster has no database: remove the path from %q", hosts)
	}
	addrs := strings.Split(hosts, ",")
	for _, a := range addrs {
		if a == "" {
			return nil, fmt.Errorf("redisopt: parse cluster url: empty address in %q", hosts)
		}
	}
	params := make([]string, 0, len(addrs))
	for _, a := range addrs[1:] {
		params = append(params, "addr="+a)
	}
	if query != "" {
		params = append(params, query)
	}
	opt, err := redis.ParseClusterURL(scheme + user + addrs[0] + "?" + strings.Join(params, "&"))
	if err != nil {
		return nil, fmt.Errorf("redisopt: parse cluster url: %w", err)
	}
	opt.DialTimeout = dialTimeout
	opt.DialerRetries = dialerRetries
	opt.ReadTimeout = ioTimeout
	opt.WriteTimeout = ioTimeout
	opt.PoolTimeout = poolTimeout
	opt.MaxRedirects = maxRedirects
	opt.ClusterStateReloadInterval = stateReload
	opt.ContextTimeoutEnabled = true
	return opt, nil
}

// NewClient returns a client for url: a *redis.ClusterClient for a
// cluster URL (see ParseCluster), else a *redis.Client (see Parse). addr
// describes what it connects to, for logs.
func NewClient(url string) (client redis.UniversalClient, addr string, err error) {
	if IsCluster(url) {
		opt, err := ParseCluster(url)
		if err != nil {
			return nil, "", err
		}
		return redis.NewClusterClient(opt), "cluster " + strings.Join(opt.Addrs, ","), nil
	}
	opt, err := Parse(url)
	if err != nil {
		return nil, "", err
	}
	return redis.NewClient(opt), opt.Addr, nil
}
