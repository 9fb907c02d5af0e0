package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// watched are the server metrics a report keeps (unlabelled series of the
// Go and process collectors and of package metrics).
var watched = []string{
	"process_resident_memory_bytes",
	"process_cpu_seconds_total",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_stack_inuse_bytes",
	"go_goroutines",
	"collab_connections",
	"collab_documents_loaded",
	"collab_ops_applied_total",
	"collab_ops_refused_total",
	"collab_frames_sent_total",
	"collab_slow_consumers_total",
	"collab_rate_limited_total",
	"collab_ops_forwarded_total",
	"collab_eventlog_commits_total",
	"collab_eventlog_events_total",
}

// Sample is the watched metrics at one instant, summed over every server
// scraped.
type Sample struct {
	At     time.Time          `json:"at"`
	Values map[string]float64 `json:"values"`
}

// ServerSide is what the servers' /metrics said over the steady window.
type ServerSide struct {
	URLs   []string `json:"urls"`
	Before Sample   `json:"before"`
	After  Sample   `json:"after"`
	// Derived over the window between the two scrapes.
	FramesPerSec    float64 `json:"frames_sent_per_s"`
	OpsPerSec       float64 `json:"ops_applied_per_s"`
	EventsPerCommit float64 `json:"events_per_commit"`
	// CPUCores is server CPU seconds per wall second (2.0 = both cores of
	// the project's machine).
	CPUCores float64 `json:"cpu_cores"`
}

func (s *ServerSide) derive() {
	secs := s.After.At.Sub(s.Before.At).Seconds()
	if secs <= 0 {
		return
	}
	d := func(name string) float64 { return s.After.Values[name] - s.Before.Values[name] }
	s.FramesPerSec = d("collab_frames_sent_total") / secs
	s.OpsPerSec = d("collab_ops_applied_total") / secs
	s.CPUCores = d("process_cpu_seconds_total") / secs
	if c := d("collab_eventlog_commits_total"); c > 0 {
		s.EventsPerCommit = d("collab_eventlog_events_total") / c
	}
}

// scraper reads the watched metrics of a set of servers.
type scraper struct {
	urls   []string
	client *http.Client
}

func newScraper(urls []string) *scraper {
	return &scraper{urls: urls, client: &http.Client{Timeout: 5 * time.Second}}
}

// sample scrapes every server and sums the values.
func (s *scraper) sample(ctx context.Context) (Sample, error) {
	out := Sample{At: time.Now(), Values: make(map[string]float64)}
	for _, u := range s.urls {
		vals, err := s.scrapeOne(ctx, u)
		if err != nil {
			return out, err
		}
		for k, v := range vals {
			out.Values[k] += v
		}
	}
	return out, nil
}

func (s *scraper) scrapeOne(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the watched unlabelled series from the Prometheus
// text format ("name value" lines); everything else is skipped.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	want := make(map[string]bool, len(watched))
	for _, w := range watched {
		want[w] = true
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", name, err)
		}
		out[name] = f
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}
