package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/wire"
)

// faultDBTimeout is ATSGATE_DB_TIMEOUT for TestFaults: shorter than the
// default, so a black-holed database is answered sooner and the test is
// shorter, with room left for a loaded machine's slow moments.
const faultDBTimeout = 2 * time.Second

// faultClients is how many clients create jobs at once.
const faultClients = 12

// attempt is one create request as a client saw it.
type attempt struct {
	client, server int
	externalID     string
	phase          string // when it was sent
	start          time.Time
	took           time.Duration
	status         int // 0 for a transport error
	retryAfter     string
	err            error
}

// TestFaults runs two serve processes as production does (PostgreSQL and
// Redis, prod settings), each reaching PostgreSQL and Redis through a
// fault-injecting proxy of the test's own, under a steady create load:
// faultClients clients, each posting jobs one after another and retrying
// the same external_id (on either process, as a load balancer would) on
// 5xx, 429 and transport errors until it is acknowledged. Meanwhile the
// proxies break:
//
//	PostgreSQL down         connections closed, new ones refused
//	PostgreSQL reset        open connections closed, reconnecting works
//	PostgreSQL black-holed  nothing forwarded, nothing closed
//	Redis down, Redis black-holed
//
// It wants: no 500 at all and no transport error; 503 with Retry-After
// while PostgreSQL is away (and readiness 503); no request longer than
// two database operations' bound and a little; both processes serving again within
// seconds of each recovery, by themselves; and at the end every
// acknowledged job stored exactly once, one charge per job, the wallet
// down by exactly the charges, and ledger verify clean.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and runs a load for about 20 s")
	}
	pg := dbtest.PostgresURL(t)
	pu, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	ru, err := url.Parse(dbtest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": pg, "USER": "faults"}
	cli(t, vars, nil, "migrate")
	uniqueKeyIDs(t, pg)
	cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
		"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	var emp wire.Employer
	cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "Faulty Staffing")
	var key wire.IssuedKey
	cli(t, vars, &key, "key", "issue", "--employer", jsonID(emp.ID))
	const topup = 10_000_000
	cli(t, vars, nil, "wallet", "topup", "--employer", jsonID(emp.ID), "--amount", fmt.Sprint(topup))

	pgProxy := dbtest.StartProxy(t, pu.Host)
	redisProxy := dbtest.StartProxy(t, ru.Host)
	redisURL := "redis://" + redisProxy.Addr() + "/" + scaleoutRedisDB
	bin := buildBinary(t)
	servers := make([]*process, 2)
	for i := range servers {
		servers[i] = startServe(t, bin, map[string]string{
			"ATSGATE_ENV":        "prod",
			"ATSGATE_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
			"DATABASE_URL":       pgProxy.URL(t, pg),
			"REDIS_URL":          redisURL,
			"ATSGATE_ADDR":       "127.0.0.1:0",
			"ATSGATE_ADMIN_ADDR": "127.0.0.1:0",
			"ATSGATE_RATE_LIMIT": "1000000", // the limiter is exercised, never the limit
			"ATSGATE_DB_TIMEOUT": faultDBTimeout.String(),
		})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: faultClients}, Timeout: 15 * time.Second}
	defer client.CloseIdleConnections()

	// The load.
	var (
		mu       sync.Mutex
		phase    = "warm-up"
		attempts []attempt
		acked    = map[string]int{} // external ID → status that acknowledged it
	)
	setPhase := func(p string) time.Time {
		mu.Lock()
		defer mu.Unlock()
		phase = p
		return time.Now()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := 0; c < faultClients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for n, try := 0, 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("F-%02d-%05d", c, n)
				for ; ; try++ {
					mu.Lock()
					sentIn := phase
					mu.Unlock()
					a := postJob(client, servers[(c+try)%2].serving.Addr, key.Key, id)
					a.client, a.server, a.phase = c, (c+try)%2, sentIn
					mu.Lock()
					attempts = append(attempts, a)
					if a.status == http.StatusCreated || a.status == http.StatusOK {
						acked[id] = a.status
					}
					mu.Unlock()
					if a.status == http.StatusCreated || a.status == http.StatusOK {
						break
					}
					if a.status != 0 && a.status < 500 && a.status != http.StatusTooManyRequests {
						return // refused for good: reported below
					}
					// Retry-After says 5 s; a test cannot wait that long,
					// and the point is what a retry finds.
					time.Sleep(100 * time.Millisecond)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}(c)
	}
	ready := func(p *process) int {
		res, err := client.Get("http://" + p.serving.Addr + "/readyz")
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	// recovered waits until each process has acknowledged a create that
	// started after since, and returns how long that took.
	recovered := func(what string, since time.Time) time.Duration {
		t.Helper()
		for deadline := since.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			ok := [2]bool{}
			var last time.Time
			for _, a := range attempts {
				if (a.status == http.StatusCreated || a.status == http.StatusOK) && !a.start.Before(since) {
					ok[a.server] = true
					if end := a.start.Add(a.took); end.After(last) {
						last = end
					}
				}
			}
			mu.Unlock()
			if ok[0] && ok[1] {
				return last.Sub(since)
			}
		}
		t.Errorf("%s: the processes did not both serve a create within 15 s", what)
		return 0
	}

	time.Sleep(1500 * time.Millisecond)
	recoveries := map[string]time.Duration{}

	setPhase("postgres down")
	pgProxy.Down()
	time.Sleep(1200 * time.Millisecond) // past the public readiness cache
	for i, p := range servers {
		if st := ready(p); st != http.StatusServiceUnavailable {
			t.Errorf("process %d: /readyz %d with PostgreSQL down, want 503", i, st)
		}
	}
	time.Sleep(800 * time.Millisecond)
	pgProxy.Up(t)
	recoveries["postgres down"] = recovered("after PostgreSQL came back", setPhase("postgres back"))
	time.Sleep(time.Second)
	for i, p := range servers {
		if st := ready(p); st != http.StatusOK {
			t.Errorf("process %d: /readyz %d after PostgreSQL came back, want 200", i, st)
		}
	}

	pgProxy.Reset()
	recoveries["postgres reset"] = recovered("after the connections were reset", setPhase("postgres reset"))
	time.Sleep(time.Second)

	setPhase("postgres black-holed")
	pgProxy.Blackhole()
	time.Sleep(3 * time.Second)
	pgProxy.Up(t)
	recoveries["postgres black-holed"] = recovered("after PostgreSQL's network healed", setPhase("postgres healed"))
	time.Sleep(time.Second)

	setPhase("redis down")
	redisProxy.Down()
	time.Sleep(1500 * time.Millisecond)
	redisProxy.Up(t)
	setPhase("redis black-holed")
	redisProxy.Blackhole()
	time.Sleep(1500 * time.Millisecond)
	redisProxy.Up(t)
	setPhase("redis back")
	time.Sleep(1500 * time.Millisecond)

	// Each client finishes the job it is on (retrying until it is
	// acknowledged), then stops.
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the clients did not finish within 30 s of the end of the faults")
	}
	for i, p := range servers {
		if mode := limiterMode(t, client, p.serving.Addr); mode != "redis" {
			t.Logf("process %d: limiter mode %q at the end (the probe brings it back within a second)", i, mode)
		}
	}

	// What the clients saw.
	type tally struct {
		byStatus   map[int]int
		maxTook    time.Duration
		noRetry503 int
	}
	phases := []string{}
	tallies := map[string]*tally{}
	var all []time.Duration
	for _, a := range attempts {
		tl := tallies[a.phase]
		if tl == nil {
			tl = &tally{byStatus: map[int]int{}}
			tallies[a.phase] = tl
			phases = append(phases, a.phase)
		}
		tl.byStatus[a.status]++
		tl.maxTook = max(tl.maxTook, a.took)
		all = append(all, a.took)
		switch {
		case a.status == 0:
			t.Errorf("client %d, %s to process %d in %q: transport error after %v: %v", a.client, a.externalID, a.server, a.phase, a.took, a.err)
		case a.status == http.StatusServiceUnavailable && a.retryAfter == "":
			tl.noRetry503++
		case a.status >= 500 && a.status != http.StatusServiceUnavailable, a.status >= 400 && a.status < 500 && a.status != http.StatusTooManyRequests:
			t.Errorf("client %d, %s to process %d in %q: status %d", a.client, a.externalID, a.server, a.phase, a.status)
		}
		// Two store operations of the bound (authentication, then the
		// create) is the longest a request can wait, and a little more.
		if a.took > 2*faultDBTimeout+time.Second {
			t.Errorf("client %d, %s to process %d in %q: waited %v", a.client, a.externalID, a.server, a.phase, a.took)
		}
	}
	for _, p := range phases {
		tl := tallies[p]
		codes := []int{}
		for s := range tl.byStatus {
			codes = append(codes, s)
		}
		sort.Ints(codes)
		var parts []string
		for _, s := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", tl.byStatus[s], s))
		}
		t.Logf("%-21s %s; slowest %v", p, strings.Join(parts, " "), tl.maxTook.Round(time.Millisecond))
		if tl.noRetry503 > 0 {
			t.Errorf("%s: %d responses of 503 without Retry-After", p, tl.noRetry503)
		}
	}
	for _, p := range []string{"postgres down", "postgres black-holed"} {
		if tallies[p] == nil || tallies[p].byStatus[http.StatusServiceUnavailable] == 0 {
			t.Errorf("%s: no 503 while the database was away", p)
		}
	}
	slices.Sort(all)
	t.Logf("%d requests: median %v, 99th percentile %v, slowest %v; recovery (both processes serving): %v",
		len(all), all[len(all)/2].Round(time.Millisecond), all[len(all)*99/100].Round(time.Millisecond),
		all[len(all)-1].Round(time.Millisecond), recoveries)

	// What the database holds, read directly.
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	stored := map[string]int{}
	rows, err := db.QueryContext(ctx, `SELECT external_id, COUNT(*) FROM jobs WHERE employer_id = $1 GROUP BY external_id`, emp.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		stored[id] = n
	}
	rows.Close()
	replayed := 0
	for id, status := range acked {
		if stored[id] != 1 {
			t.Errorf("acknowledged job %s is stored %d times", id, stored[id])
		}
		if status == http.StatusOK {
			replayed++ // an attempt answered 503 had committed after all
		}
	}
	for id := range stored {
		if _, ok := acked[id]; !ok {
			t.Errorf("job %s is stored but was never acknowledged", id)
		}
	}
	var charges, balance int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_entries WHERE employer_id = $1 AND kind = 'job_charge'`, emp.ID).Scan(&charges); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT balance_minor FROM wallets WHERE employer_id = $1`, emp.ID).Scan(&balance); err != nil {
		t.Fatal(err)
	}
	if charges != int64(len(stored)) {
		t.Errorf("%d charges for %d jobs", charges, len(stored))
	}
	if want := int64(topup*100) - int64(len(stored))*50*100; balance != want {
		t.Errorf("wallet balance %d minor, want %d (top-up less %d charges of 50)", balance, want, len(stored))
	}
	var check wire.LedgerCheck
	cli(t, vars, &check, "ledger", "verify")
	if !check.OK {
		t.Errorf("ledger verify: %+v", check.Breaches)
	}
	t.Logf("%d jobs acknowledged (%d of them as a replay of an attempt answered 503 that had committed), %d stored, %d charges; ledger verify ok: %v",
		len(acked), replayed, len(stored), charges, check.OK)
}

// postJob is one create of externalID with key on the gh site at addr.
func postJob(client *http.Client, addr, key, externalID string) attempt {
	body := fmt.Sprintf(`{"external_id":%q,"title":"Line Cook","description":"Created through faults."}`, externalID)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/ats/jobs", strings.NewReader(body))
	req.Host = "gh.localhost"
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	a := attempt{externalID: externalID, start: time.Now()}
	res, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	a.took = time.Since(a.start)
	if err != nil {
		a.err = err
		return a
	}
	a.status, a.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
	return a
}
