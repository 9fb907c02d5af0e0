package redisopt

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParse(t *testing.T) {
	opt, err := Parse("redis://127.0.0.1:6390/2")
	if err != nil {
		t.Fatal(err)
	}
	if opt.Addr != "127.0.0.1:6390" || opt.DB != 2 {
		t.Fatalf("addr %q db %d", opt.Addr, opt.DB)
	}
	if opt.DialTimeout != time.Second || opt.ReadTimeout != time.Second || opt.WriteTimeout != time.Second ||
		opt.PoolTimeout != time.Second || opt.MaxRetries != 1 || opt.DialerRetries != 2 || !opt.ContextTimeoutEnabled {
		t.Fatalf("timeouts not set: %+v", opt)
	}
	if _, err := Parse("http://x"); err == nil {
		t.Fatal("bad scheme accepted")
	}
}

func TestParseCluster(t *testing.T) {
	for _, tc := range []struct {
		url, user string
		addrs     []string
		tls       bool
		bad       bool
	}{
		{url: "redis+cluster://10.0.0.1:7000", addrs: []string{"10.0.0.1:7000"}},
		{url: "redis+cluster://a:7000,b:7001,c:7002", addrs: []string{"a:7000", "b:7001", "c:7002"}},
		{url: "redis+cluster://u:p@a:7000,b:7001?pool_size=7", user: "u", addrs: []string{"a:7000", "b:7001"}},
		{url: "rediss+cluster://a:7000", addrs: []string{"a:7000"}, tls: true},
		{url: "redis+cluster://a:7000/2", bad: true},
		{url: "redis+cluster://a:7000,,b:1", bad: true},
		{url: "redis+cluster://a:7000?nope=1", bad: true},
		{url: "redis://a:7000", bad: true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			opt, err := ParseCluster(tc.url)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", opt)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !IsCluster(tc.url) {
				t.Error("IsCluster false")
			}
			if strings.Join(opt.Addrs, ",") != strings.Join(tc.addrs, ",") || opt.Username != tc.user || (opt.TLSConfig != nil) != tc.tls {
				t.Fatalf("addrs %v user %q tls %v", opt.Addrs, opt.Username, opt.TLSConfig != nil)
			}
			if opt.DialTimeout != time.Second || opt.ReadTimeout != time.Second || opt.WriteTimeout != time.Second ||
				opt.PoolTimeout != time.Second || opt.DialerRetries != 2 || opt.MaxRedirects != 1 ||
				opt.ClusterStateReloadInterval != time.Second || !opt.ContextTimeoutEnabled {
				t.Fatalf("timeouts not set: %+v", opt)
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	for _, tc := range []struct {
		url     string
		cluster bool
	}{
		{"redis://127.0.0.1:6390", false},
		{"redis+cluster://127.0.0.1:7000,127.0.0.1:7001", true},
	} {
		c, _, err := NewClient(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(*redis.ClusterClient); ok != tc.cluster {
			t.Errorf("%s: %T", tc.url, c)
		}
		_ = c.Close()
	}
	if _, _, err := NewClient("redis+cluster://"); err == nil {
		t.Error("empty cluster url accepted")
	}
}
