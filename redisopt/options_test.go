package redisopt

import (
	"testing"
	"time"
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
