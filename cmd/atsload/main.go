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
//
// -key takes one key or several separated by commas: client w uses key
// w mod n, so 16 keys of 16 employers give one employer per client. With
// -pid (the server's process ID, on Linux) the report adds the server's CPU
// time per request (user+system from /proc/PID/stat over the run) and its
// peak resident memory (VmHWM from /proc/PID/status).
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
	"strconv"
	"strings"
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
	pid                int
	keys               []string
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
	// StatusSummary is Statuses on one line, "201:9000 402:3".
	StatusSummary string `json:"status_summary"`
	Errors        int    `json:"transport_errors"`
	// CPUmsPerRequest is the server's CPU time (user+system) over the run
	// divided by the requests answered; 0 without -pid.
	CPUmsPerRequest float64 `json:"server_cpu_ms_per_request"`
	// PeakRSSMiB is the server's peak resident set so far (VmHWM).
	PeakRSSMiB float64 `json:"server_peak_rss_mib"`
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
	fs.IntVar(&o.pid, "pid", 0, "the server's process ID: report its CPU per request and peak RSS from /proc")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.key == "" {
		return errors.New("-key (or ATSGATE_KEY) is required")
	}
	for _, k := range strings.Split(o.key, ",") {
		if k = strings.TrimSpace(k); k != "" {
			o.keys = append(o.keys, k)
		}
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
		// Make sure the job these operations read exists, for every key.
		for _, k := range o.keys {
			if _, _, err := send(ctx, client, &o, k, http.MethodPost, endpoint, jobBody(fmt.Sprintf("load-%d-seed", runID))); err != nil {
				return err
			}
		}
	}
	cpu0, _ := serverCPU(o.pid)

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
			key := o.keys[w%len(o.keys)]
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
				status, _, err := send(ctx, client, &o, key, method, target, body)
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
	if o.pid > 0 {
		cpu1, err := serverCPU(o.pid)
		if err != nil {
			return err
		}
		if r.Requests > 0 {
			r.CPUmsPerRequest = float64((cpu1 - cpu0).Microseconds()) / 1000 / float64(r.Requests)
		}
		r.PeakRSSMiB, _ = serverPeakRSS(o.pid)
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "%s × %d clients: %d requests in %.1fs = %.0f req/s\nlatency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\nstatuses %v, transport errors %d\n",
		r.Operation, r.Concurrency, r.Requests, r.Seconds, r.PerSecond, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.Statuses, r.Errors)
	if o.pid > 0 {
		fmt.Fprintf(stdout, "server CPU %.3f ms per request, peak RSS %.1f MiB\n", r.CPUmsPerRequest, r.PeakRSSMiB)
	}
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
	codes := make([]string, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	summary := make([]string, len(codes))
	for i, c := range codes {
		summary[i] = fmt.Sprintf("%s:%d", c, statuses[c])
	}
	return result{StatusSummary: strings.Join(summary, " "), Operation: o.op, Concurrency: o.concurrency, Requests: len(lat), Seconds: elapsed.Seconds(),
		PerSecond: float64(len(lat)) / elapsed.Seconds(), P50ms: pct(0.50), P90ms: pct(0.90), P99ms: pct(0.99),
		MaxMs: pct(1), Statuses: statuses, Errors: errs}
}

// description is about 1 KiB of HTML, the size of a typical job ad's
// summary, so the sanitiser and the row carry a realistic load.
var description = strings.Repeat("<p>Measures how fast the API answers, <strong>under load</strong>, with <em>sixteen</em> clients.</p>\n<ul><li>One employer per client</li></ul>\n", 7)

func jobBody(externalID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"external_id": externalID, "title": "Load test engineer",
		"description": description, "apply_url": "https://example.com/apply",
		"min_experience": 2, "max_experience": 5, "job_type": "full-time",
	})
	return b
}

func send(ctx context.Context, c *http.Client, o *options, key, method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Host = o.host
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// serverCPU is the process's user+system CPU time so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func serverCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unreadable CPU times", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// serverPeakRSS is the process's peak resident set in MiB (VmHWM).
func serverPeakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}
