package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/web"
)

// hotEnv is newEnv's store and employer behind the public handler as serve
// assembles it with Redis: the shared limiter in front of every request
// (a limit too high to refuse) and, where the build has one, the
// authentication cache over the shared generation.
func hotEnv(b *testing.B) (*env, employer, http.Handler) {
	e := newEnv(b)
	emp := e.employer(b, "gh", "Bench Ltd", "1000000000", autoPublish)
	opt, err := redis.ParseURL(dbtest.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	client := redis.NewClient(opt)
	b.Cleanup(func() { client.Close() })
	lim := ratelimit.NewFallback(ratelimit.NewRedis(client, fmt.Sprintf("atsgate:bench:%p:", b)), ratelimit.NewLocal(nil), nil)
	_ = lim
	d := web.Deps{Directory: e.st, Jobs: e.st, Site: e.st, Taxonomy: config.Taxonomy, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limiter: lim, RateLimit: 1 << 30, AuthFailureLimit: 60}
	d.AuthGeneration = func(ctx context.Context) (int64, error) { return lim.Generation(ctx, "authgen") }
	return e, emp, web.NewPublic(d)
}

var hotDescription = []byte(`<p>Measures how fast the API answers, <strong>under load</strong>, with <em>sixteen</em> clients.</p><ul><li>One employer per client</li></ul>`)

func hotBody(externalID string) []byte {
	return []byte(fmt.Sprintf(`{"external_id":%q,"title":"Software Engineer","description":"%s%s%s%s%s%s%s","deadline":"2030-09-30","apply_url":"https://careers.example.com/apply","min_experience":2,"max_experience":5}`,
		externalID, hotDescription, hotDescription, hotDescription, hotDescription, hotDescription, hotDescription, hotDescription))
}

// BenchmarkHotCreate, …Get, …Replay and …List are the load scenarios of
// `make load` in process: auto-publish employer, 1 KiB description, the
// Redis limiter in front.
func BenchmarkHotCreate(b *testing.B) {
	_, emp, h := hotEnv(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, h, benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, hotBody(fmt.Sprintf("HOT-%09d", i))), http.StatusCreated)
	}
}

func BenchmarkHotGet(b *testing.B) {
	_, emp, h := hotEnv(b)
	serve(b, h, benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, hotBody("HOT-GET")), http.StatusCreated)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, h, benchRequest(http.MethodGet, "/api/ats/jobs?external_id=HOT-GET", emp.Key, nil), http.StatusOK)
	}
}

func BenchmarkHotReplay(b *testing.B) {
	_, emp, h := hotEnv(b)
	body := hotBody("HOT-REPLAY")
	serve(b, h, benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, body), http.StatusCreated)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, h, benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, body), http.StatusOK)
	}
}

func BenchmarkHotList(b *testing.B) {
	e, emp, h := hotEnv(b)
	jobs := make([]atsgate.Job, 2000)
	for i := range jobs {
		jobs[i] = atsgate.Job{ExternalID: fmt.Sprintf("HOT-LIST-%05d", i), Title: "Software Engineer", Description: "<p>Seeded.</p>"}
	}
	if _, err := e.st.LoadPublished(context.Background(), emp.ID, jobs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, h, benchRequest(http.MethodGet, "/api/ats/jobs?limit=50", emp.Key, nil), http.StatusOK)
	}
}
