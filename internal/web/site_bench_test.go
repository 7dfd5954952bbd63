package web_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// benchTitles and benchWords make descriptions with a realistic spread:
// "team" is in every job, "zygomorphic" in one job in 100,000 (at least
// one).
var (
	benchTitles = []string{"Software Engineer", "Accountant", "Nurse", "Sales Executive", "Driver", "Teacher",
		"Customer Service Agent", "Marketing Officer", "Data Analyst", "Electrician", "Chef", "Pharmacist",
		"Civil Engineer", "HR Officer", "Security Guard", "Receptionist", "Logistics Coordinator", "Lawyer"}
	benchWords = []string{"payments", "clinic", "warehouse", "students", "customers", "reports", "site", "fleet",
		"kitchen", "audits", "branches", "contracts", "network", "patients", "suppliers", "campaigns"}
)

// loadCountry bulk-loads n published jobs into the Ghana site, newest
// last, one second apart, in chunks that keep memory small.
func loadCountry(b *testing.B, e *env, n int) (ids []int64, published []time.Time) {
	b.Helper()
	emp := e.employer(b, "gh", "Bench Employer Ltd", "0", autoPublish)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	// Chunks small enough that one stays inside the store's one-minute
	// bound on SQLite, whose FTS5 triggers fill the search index per row.
	const chunk = 20_000
	for lo := 0; lo < n; lo += chunk {
		jobs := make([]atsgate.Job, 0, min(chunk, n-lo))
		for i := lo; i < lo+chunk && i < n; i++ {
			desc := fmt.Sprintf("<p>Join our team to handle %s and %s in Accra.</p>", benchWords[i%len(benchWords)], benchWords[(i/7)%len(benchWords)])
			if i%100_000 == 50_000 || (n < 100_000 && i == n/2) {
				desc += "<p>A zygomorphic role.</p>"
			}
			jobs = append(jobs, atsgate.Job{ExternalID: "BENCH-" + strconv.Itoa(i),
				Title:           benchTitles[i%len(benchTitles)] + " " + strconv.Itoa(i),
				Description:     desc,
				ShowCompanyName: i%10 != 0,
				Salary:          int64(1000 + i%50*100),
				Specialization:  int64(i%40 + 1),
				States:          []int64{int64(i%16 + 1)},
				Qualifications:  []int64{int64(i%8 + 1)},
				Extras: map[string]string{"job_type": atsgate.JobTypes[i%len(atsgate.JobTypes)],
					"workplace_type": atsgate.WorkplaceTypes[i%len(atsgate.WorkplaceTypes)]},
				PublishedAt: base.Add(time.Duration(i) * time.Second)})
			published = append(published, base.Add(time.Duration(i)*time.Second))
		}
		got, err := e.st.LoadPublished(context.Background(), emp.ID, jobs)
		if err != nil {
			b.Fatalf("load: %v", err)
		}
		ids = append(ids, got...)
	}
	b.Logf("loaded %d jobs in %v", n, time.Since(start).Round(time.Millisecond))
	return ids, published
}

// BenchmarkSite measures the public site with a country of
// ATSGATE_BENCH_JOBS published jobs (10,000 unless set; the figure
// is 1,000,000) and 16 concurrent clients, on each database: p50 and p99
// of each page over ATSGATE_BENCH_REQUESTS requests (800 unless set).
// Run it with -benchtime=1x; b.N is not used, the request count is.
//
//	ATSGATE_BENCH_JOBS=1000000 go test -run '^$' -bench BenchmarkSite -benchtime=1x -timeout 2h ./internal/web/
//
// siteBenchEnv says how to keep the loaded database between runs.
func BenchmarkSite(b *testing.B) {
	n := envInt("ATSGATE_BENCH_JOBS", 10_000)
	requests := envInt("ATSGATE_BENCH_REQUESTS", 800)
	for _, d := range []string{"postgres", "sqlite"} {
		b.Run(d, func(b *testing.B) {
			e, ids, published := siteBenchEnv(b, d, n)
			mid := n / 2
			deep := atsgate.SiteCursor{PublishedAt: published[mid], ID: ids[mid]}
			paths := make([]string, len(ids))
			for i, id := range ids {
				paths[i] = atsgate.PublicPath(id, benchTitles[i%len(benchTitles)]+" "+strconv.Itoa(i))
			}
			scenarios := []struct {
				name   string
				target func(r *rand.Rand) string
			}{
				{"listing-first", func(*rand.Rand) string { return "/" }},
				{"listing-deep", func(*rand.Rand) string { return "/?after=" + url.QueryEscape(deep.String()) }},
				{"search-common", func(*rand.Rand) string { return "/?q=team" }},
				{"search-rare", func(*rand.Rand) string { return "/?q=zygomorphic" }},
				// 1 job in 336 matches all three (about 3,000 at a million).
				{"search-filtered", func(*rand.Rand) string { return "/?q=kitchen&state=12&job_type=PART_TIME" }},
				{"job-page", func(r *rand.Rand) string { return paths[r.IntN(len(paths))] }},
			}
			for _, sc := range scenarios {
				b.Run(sc.name, func(b *testing.B) {
					p50, p99 := measure(b, e, requests, 16, sc.target)
					b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
					b.Logf("%s %s, %d jobs: p50 %v, p99 %v", d, sc.name, n, p50, p99)
				})
			}
		})
	}
}

// siteBenchEnv is BenchmarkSite's database with n published jobs. With
// ATSGATE_BENCH_SITE_POSTGRES (a database URL) or ATSGATE_BENCH_SITE_SQLITE
// (a file URL) set for the dialect, that database is kept between runs:
// loaded on the first, and reused by later runs with the same n, which
// saves the load (1.5 minutes for a million jobs on PostgreSQL, 7 on
// SQLite) when comparing changes.
func siteBenchEnv(b *testing.B, d string, n int) (*env, []int64, []time.Time) {
	b.Helper()
	url := os.Getenv("ATSGATE_BENCH_SITE_" + strings.ToUpper(d))
	if url == "" {
		e := newEnvOn(b, d)
		ids, published := loadCountry(b, e, n)
		return e, ids, published
	}
	e := newEnvAt(b, url)
	rows, err := e.st.DB().Query(`SELECT jobs.id, jobs.published_at FROM jobs JOIN employers ON employers.id = jobs.employer_id
		WHERE employers.name = 'Bench Employer Ltd' ORDER BY jobs.published_at, jobs.id`)
	if err != nil {
		b.Fatalf("read kept jobs: %v", err)
	}
	defer rows.Close()
	var ids []int64
	var published []time.Time
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			b.Fatalf("read kept jobs: %v", err)
		}
		ids, published = append(ids, id), append(published, at)
	}
	if err := rows.Err(); err != nil {
		b.Fatalf("read kept jobs: %v", err)
	}
	switch len(ids) {
	case n:
		b.Logf("reusing the %d jobs kept in %s", n, url)
		return e, ids, published
	case 0:
		ids, published = loadCountry(b, e, n)
		return e, ids, published
	}
	b.Fatalf("%s holds %d bench jobs, not %d: drop it, or use another", url, len(ids), n)
	return nil, nil, nil
}

// measure sends requests GETs from clients goroutines and returns the
// median and 99th percentile latency. A first round of requests/10 (at
// least one per client) is not counted: it warms PostgreSQL's buffers,
// the connection pools and the plans, as a serving process's own traffic
// keeps them warm, so the figures are a running site's.
func measure(b *testing.B, e *env, requests, clients int, target func(*rand.Rand) string) (p50, p99 time.Duration) {
	b.Helper()
	send(b, e, max(requests/10, clients), clients, target)
	return send(b, e, requests, clients, target)
}

// send is one round of measure.
func send(b *testing.B, e *env, requests, clients int, target func(*rand.Rand) string) (p50, p99 time.Duration) {
	b.Helper()
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	per := requests / clients
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			local := make([]time.Duration, 0, per)
			for i := 0; i < per; i++ {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+target(r), nil)
				req.Host = "gh.localhost"
				start := time.Now()
				res, err := e.client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Errorf("GET %s: %d", req.URL, res.StatusCode)
					return
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(uint64(c) + uint64(requests)<<32)
	}
	wg.Wait()
	if len(lat) == 0 {
		b.Fatal("no request succeeded")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
