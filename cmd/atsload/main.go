// Command atsload puts a running atsgate under load through its public ATS
// API and reports throughput, latency percentiles and status counts.
//
//	atsload -url http://127.0.0.1:8080 -host ng.localhost -key mjm_ng_… -op create -c 16 -d 20s
//
// Operations: create (distinct external IDs), replay (one external ID over
// and over), get, list, mixed (create, then get and list it). The run is
// bounded by -n requests or -d time, whichever comes first. Give the server a
// high ATSGATE_RATE_LIMIT and enough wallet money, or the figures measure 429s
// and 402s.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "atsload:", err)
		os.Exit(1)
	}
}

type options struct {
	url, host, key, op string
	concurrency, n     int
	duration           time.Duration
	jsonOut            bool
}

// result is the report, also printed with -json.
type result struct {
	Operation   string         `json:"operation"`
	Concurrency int            `json:"concurrency"`
	Requests    int            `json:"requests"`
	Seconds     float64        `json:"seconds"`
	PerSecond   float64        `json:"requests_per_second"`
	P50ms       float64        `json:"p50_ms"`
	P90ms       float64        `json:"p90_ms"`
	P99ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	Statuses    map[string]int `json:"statuses"`
	Errors      int            `json:"transport_errors"`
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("atsload", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the public listener")
	fs.StringVar(&o.host, "host", "ng.localhost", "country host to send in the Host header")
	fs.StringVar(&o.key, "key", os.Getenv("ATSGATE_KEY"), "API key (default $ATSGATE_KEY)")
	fs.StringVar(&o.op, "op", "create", "create, replay, get, list or mixed")
	fs.IntVar(&o.concurrency, "c", 8, "concurrent clients")
	fs.IntVar(&o.n, "n", 0, "stop after this many requests (0: only -d)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "stop after this long")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.key == "" {
		return errors.New("-key (or ATSGATE_KEY) is required")
	}
	if o.concurrency < 1 || o.duration <= 0 {
		return errors.New("-c must be at least 1 and -d positive")
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency, MaxConnsPerHost: o.concurrency},
	}
	endpoint := o.url + "/api/ats/jobs"
	runID := time.Now().UnixNano()
	if o.op == "replay" || o.op == "get" || o.op == "list" {
		// Make sure the job these operations read exists.
		if _, _, err := send(ctx, client, &o, http.MethodPost, endpoint, jobBody(fmt.Sprintf("load-%d-seed", runID))); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		statuses  = map[string]int{}
		errs      int
		issued    atomic.Int64
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				if ctx.Err() != nil || (o.n > 0 && issued.Add(1) > int64(o.n)) {
					return
				}
				method, target, body := http.MethodGet, endpoint, []byte(nil)
				switch o.op {
				case "create":
					method, body = http.MethodPost, jobBody(fmt.Sprintf("load-%d-%d-%d", runID, w, i))
				case "replay":
					method, body = http.MethodPost, jobBody(fmt.Sprintf("load-%d-seed", runID))
				case "get":
					target += fmt.Sprintf("?external_id=load-%d-seed", runID)
				case "list":
					target += "?limit=50"
				case "mixed":
					switch i % 3 {
					case 0:
						method, body = http.MethodPost, jobBody(fmt.Sprintf("load-%d-%d-%d", runID, w, i))
					case 1:
						target += fmt.Sprintf("?external_id=load-%d-%d-%d", runID, w, i-1)
					default:
						target += "?limit=20"
					}
				}
				t0 := time.Now()
				status, _, err := send(ctx, client, &o, method, target, body)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						errs++
					}
				} else {
					latencies = append(latencies, d)
					statuses[fmt.Sprint(status)]++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := report(o, latencies, statuses, errs, elapsed)
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "%s × %d clients: %d requests in %.1fs = %.0f req/s\nlatency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\nstatuses %v, transport errors %d\n",
		r.Operation, r.Concurrency, r.Requests, r.Seconds, r.PerSecond, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.Statuses, r.Errors)
	return nil
}

func report(o options, lat []time.Duration, statuses map[string]int, errs int, elapsed time.Duration) result {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	return result{Operation: o.op, Concurrency: o.concurrency, Requests: len(lat), Seconds: elapsed.Seconds(),
		PerSecond: float64(len(lat)) / elapsed.Seconds(), P50ms: pct(0.50), P90ms: pct(0.90), P99ms: pct(0.99),
		MaxMs: pct(1), Statuses: statuses, Errors: errs}
}

func jobBody(externalID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"external_id": externalID, "title": "Load test engineer",
		"description": "<p>Measures how fast the API answers.</p>", "apply_url": "https://example.com/apply",
		"min_experience": 2, "max_experience": 5, "job_type": "full-time",
	})
	return b
}

func send(ctx context.Context, c *http.Client, o *options, method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Host = o.host
	req.Header.Set("Authorization", "Bearer "+o.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
