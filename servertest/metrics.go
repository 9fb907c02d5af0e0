package servertest

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapeTimeout bounds one /metrics request; the endpoint answers from
// counters in well under a millisecond.
const scrapeTimeout = 5 * time.Second

// Metrics scrapes the server's /metrics endpoint and returns every sample
// by its name as written, labels included (collab_ops_applied_total,
// go_gc_duration_seconds{quantile="0.5"}). It fails tb if the server does
// not answer.
func (s *Server) Metrics(tb testing.TB) map[string]float64 {
	tb.Helper()
	addr := s.AdminAddr()
	if addr == "" {
		addr = s.Addr() // -admin-addr off: mode none serves /metrics publicly too
	}
	m, err := scrape("http://" + addr + "/metrics")
	if err != nil {
		tb.Fatalf("servertest: %s: %v", s.name, err)
	}
	return m
}

// SumMetrics adds up the metrics of every server in servers that is
// running, as a cluster-wide total.
func SumMetrics(tb testing.TB, servers ...*Server) map[string]float64 {
	tb.Helper()
	sum := make(map[string]float64)
	for _, s := range servers {
		if !s.Running() {
			continue
		}
		for k, v := range s.Metrics(tb) {
			sum[k] += v
		}
	}
	return sum
}

// scrape reads Prometheus' text format: one "name value" sample a line.
func scrape(url string) (map[string]float64, error) {
	client := http.Client{Timeout: scrapeTimeout}
	resp, err := client.Get(url)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	m := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return m, nil
}
