package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/seal"
	"github.com/atsgate/atsgate/internal/store"
)

// erpInput is a valid ERP create with the given title.
func erpInput(title string) atsgate.JobInput {
	return atsgate.JobInput{Title: ptr(title), Description: ptr(title), ApplyURL: ptr("https://x.example/apply")}
}

// TestERPSources: add, list, authenticate, rotate, disable and enable a
// source; the key is stored hashed and the secret sealed, never in clear.
func TestERPSources(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		key := make([]byte, seal.KeySize)
		copy(key, "a test sealing key of 32 bytes!!")
		box, _ := seal.New(key)
		f := setup(t, d, fixtureOpts{balance: "100"}, store.WithSealer(box))
		ctx := context.Background()
		src, plainKey, secret, err := f.st.CreateERPSource(ctx, atsgate.ERPSourceInput{EmployerID: f.employer.ID, Name: "Main_ERP",
			TrustedIPs: "192.168.1.100, 10.0.0.0/8,2001:db8::1", RequireSignature: true, Description: "SAP"})
		if err != nil {
			t.Fatalf("CreateERPSource: %v", err)
		}
		if !strings.HasPrefix(plainKey, "erp_gh_") || !strings.HasPrefix(secret, "erpsec_") || src.SyncStatus != atsgate.SyncIdle ||
			src.IntegrationVersion != "1.0" || strings.Join(src.TrustedIPs, ",") != "192.168.1.100/32,10.0.0.0/8,2001:db8::1/128" ||
			src.KeyPrefix != plainKey[:11] {
			t.Errorf("source = %+v, key %q", src, plainKey)
		}
		_, _, _, err = f.st.CreateERPSource(ctx, atsgate.ERPSourceInput{EmployerID: f.employer.ID, Name: "Main_ERP"})
		wantCode(t, err, atsgate.ECONFLICT)
		_, _, _, err = f.st.CreateERPSource(ctx, atsgate.ERPSourceInput{EmployerID: f.employer.ID, Name: "bad name!", TrustedIPs: "nope"})
		wantCode(t, err, atsgate.EINVALID)
		_, _, _, err = f.st.CreateERPSource(ctx, atsgate.ERPSourceInput{EmployerID: 999999, Name: "X"})
		wantCode(t, err, atsgate.ENOTFOUND)

		// Nothing secret is stored in clear.
		var row struct{ KeyHash, SecretHash, SecretSealed string }
		if err := f.st.DB().QueryRowContext(ctx, `SELECT key_hash, secret_hash, secret_sealed FROM erp_sources WHERE id = `+fmt.Sprint(src.ID)).
			Scan(&row.KeyHash, &row.SecretHash, &row.SecretSealed); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{row.KeyHash, row.SecretHash, row.SecretSealed} {
			if strings.Contains(v, plainKey[7:]) || strings.Contains(v, secret[7:]) {
				t.Errorf("a credential is stored in clear: %q", v)
			}
		}

		p, err := f.st.AuthenticateERP(ctx, atsgate.HashAPIKey(plainKey))
		if err != nil || p.Source.ID != src.ID || string(p.Secret) != secret || p.Employer.ID != f.employer.ID || p.Country.Code != "gh" {
			t.Fatalf("AuthenticateERP = %+v, %v", p, err)
		}
		_, err = f.st.AuthenticateERP(ctx, atsgate.HashAPIKey("erp_gh_nope"))
		wantCode(t, err, atsgate.EINVALIDAPIKEY)

		_, key2, secret2, err := f.st.RotateERPSource(ctx, src.ID)
		if err != nil || key2 == plainKey || secret2 == secret {
			t.Fatalf("RotateERPSource: %v", err)
		}
		_, err = f.st.AuthenticateERP(ctx, atsgate.HashAPIKey(plainKey))
		wantCode(t, err, atsgate.EINVALIDAPIKEY)
		if p, err := f.st.AuthenticateERP(ctx, atsgate.HashAPIKey(key2)); err != nil || string(p.Secret) != secret2 {
			t.Fatalf("after rotate: %v", err)
		}
		if _, err := f.st.SetERPSourceActive(ctx, src.ID, false); err != nil {
			t.Fatal(err)
		}
		_, err = f.st.AuthenticateERP(ctx, atsgate.HashAPIKey(key2))
		wantCode(t, err, atsgate.ESOURCEINACTIVE)
		if _, err := f.st.SetERPSourceActive(ctx, src.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = f.st.SetERPSourceActive(ctx, 999999, true)
		wantCode(t, err, atsgate.ENOTFOUND)

		// Sync status: IDLE, then ACTIVE, ERROR with the code, ACTIVE again.
		at := time.Date(2026, 6, 18, 10, 0, 0, 0, time.UTC)
		steps := []struct {
			code, want string
		}{{"", atsgate.SyncActive}, {"MISSING_FIELD", atsgate.SyncError}, {"", atsgate.SyncActive}}
		for i, s := range steps {
			if err := f.st.NoteERPSync(ctx, src.ID, s.code, at.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
			got, _ := f.st.ERPSource(ctx, src.ID)
			if got.SyncStatus != s.want {
				t.Errorf("after %q: sync status %s, want %s", s.code, got.SyncStatus, s.want)
			}
		}
		got, _ := f.st.ERPSourceByName(ctx, f.employer.ID, "Main_ERP")
		if got.LastFailureCode != "MISSING_FIELD" || !got.LastFailureAt.Equal(at.Add(time.Second)) || !got.LastSuccessAt.Equal(at.Add(2*time.Second)) {
			t.Errorf("sync times: %+v", got)
		}
		list, err := f.st.ERPSources(ctx, f.employer.ID)
		if err != nil || len(list) != 1 {
			t.Errorf("ERPSources = %d, %v", len(list), err)
		}
	})
}

// TestERPJobIDsConcurrent: many creates of one employer at once get
// distinct, consecutive job IDs; creates that fail (a wallet that runs
// out part-way, JOB_EXISTS) give their number back, so there is no gap,
// and no number is ever given twice.
func TestERPJobIDsConcurrent(t *testing.T) {
	for _, d := range []string{"postgres", "sqlite"} {
		t.Run(d, func(t *testing.T) {
			f := setup(t, d, fixtureOpts{balance: "1500"}) // 30 jobs at 50
			const n = 40
			results := race(t, n, func(ctx context.Context, i int) result {
				title := fmt.Sprintf("Job %d", i)
				if i%10 == 9 {
					title = "Job 0" // a duplicate title: JOB_EXISTS or first
				}
				j, err := f.st.CreateERPJob(ctx, f.p, erpInput(title), false)
				return result{job: j, err: err}
			})
			year := time.Now().Year()
			var ids []string
			exists, funds := 0, 0
			for _, r := range results {
				switch atsgate.ErrorCode(r.err) {
				case "":
					ids = append(ids, r.job.ExternalID)
				case atsgate.EJOBEXISTS:
					exists++
				case atsgate.EFUNDS:
					funds++
				default:
					t.Fatalf("create %d: %v", r.i, r.err)
				}
			}
			// 36 distinct titles; 4 duplicates of "Job 0" → JOB_EXISTS; the
			// wallet pays for 30.
			if len(ids) != 30 || exists != 4 || funds != 6 {
				t.Fatalf("created %d, JOB_EXISTS %d, 402 %d; want 30, 4, 6", len(ids), exists, funds)
			}
			sort.Strings(ids)
			for i, id := range ids {
				if want := atsgate.ERPJobID(f.employer.Code, year, int64(i+1)); id != want {
					t.Fatalf("IDs %v: #%d = %s, want %s (no gaps, no duplicates)", ids, i, id, want)
				}
			}
			if !f.balance(t).IsZero() {
				t.Errorf("balance = %s, want 0", f.balance(t))
			}
			// After a top-up the numbering carries on where it was.
			if _, _, err := f.st.TopUp(context.Background(), f.employer.ID, dec("50"), "test", "more", ""); err != nil {
				t.Fatal(err)
			}
			j, err := f.st.CreateERPJob(context.Background(), f.p, erpInput("Later"), false)
			if err != nil || j.ExternalID != atsgate.ERPJobID(f.employer.Code, year, 31) {
				t.Fatalf("next create = %v, %v", j, err)
			}
		})
	}
}

// TestERPJobRules: JOB_EXISTS compares trimmed, case-folded titles of
// open jobs only; an ATS job that took the next ERP ID as its external
// ID is skipped; the year is the country's; archiving hides a job from
// lists; publish follows auto_publish and the employer's right.
func TestERPJobRules(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		clk := newTestClock(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ng, err := st.CreateCountry(context.Background(), atsgate.Country{Code: "ng", Name: "Nigeria", Hosts: []string{"ng.localhost"},
			Currency: "NGN", TimeZone: "Africa/Lagos", Price: dec("50"), PublicURL: "http://ng.localhost:8080"}) // UTC+1: already 2027
		if err != nil {
			t.Fatal(err)
		}
		f := newEmployer(t, st, ng, fixtureOpts{balance: "1000", autoPublish: true})
		ctx := context.Background()
		code := f.employer.Code

		j1, err := st.CreateERPJob(ctx, f.p, erpInput("Nurse"), true)
		if err != nil || j1.ExternalID != code+"-2027-0001" || j1.State != atsgate.StatePublished || j1.Dialect != atsgate.DialectERP {
			t.Fatalf("first = %+v, %v", j1, err)
		}
		_, err = st.CreateERPJob(ctx, f.p, erpInput("  nURSE "), true)
		wantCode(t, err, atsgate.EJOBEXISTS)
		if e, ok := err.(*atsgate.Error); !ok || e.JobID != j1.ExternalID {
			t.Errorf("JOB_EXISTS names %v, want %s", err, j1.ExternalID)
		}
		// auto_publish false keeps the job for review even for this employer.
		j2, err := st.CreateERPJob(ctx, f.p, erpInput("Porter"), false)
		if err != nil || j2.State != atsgate.StatePending {
			t.Fatalf("unpublished = %+v, %v", j2, err)
		}
		// An ATS job holding the next ID: the ERP numbering steps over it.
		if _, _, err := st.CreateJob(ctx, f.p, jobInput(code+"-2027-0003")); err != nil {
			t.Fatal(err)
		}
		j4, err := st.CreateERPJob(ctx, f.p, erpInput("Cook"), true)
		if err != nil || j4.ExternalID != code+"-2027-0004" {
			t.Fatalf("after the ATS job = %+v, %v", j4, err)
		}
		// A closed job's title is free again.
		if _, err := st.CloseJob(ctx, f.p, j1.ExternalID); err != nil {
			t.Fatal(err)
		}
		j5, err := st.CreateERPJob(ctx, f.p, erpInput("Nurse"), true)
		if err != nil || j5.ExternalID != code+"-2027-0005" {
			t.Fatalf("reuse of a closed title = %+v, %v", j5, err)
		}
		// Archive: closed and out of the lists, once.
		for i := 0; i < 2; i++ {
			a, err := st.ArchiveJob(ctx, f.p, j5.ExternalID)
			if err != nil || a.State != atsgate.StateClosed || a.ArchivedAt.IsZero() {
				t.Fatalf("archive #%d = %+v, %v", i, a, err)
			}
		}
		if _, err := st.ArchiveJob(ctx, f.p, j1.ExternalID); err != nil {
			t.Fatal(err)
		}
		_, err = st.ArchiveJob(ctx, f.p, "NOPE")
		wantCode(t, err, atsgate.ENOTFOUND)
		page, err := st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, j := range page.Jobs {
			listed = append(listed, j.ExternalID)
		}
		want := []string{j4.ExternalID, code + "-2027-0003", j2.ExternalID}
		if strings.Join(listed, " ") != strings.Join(want, " ") {
			t.Errorf("listed %v, want %v", listed, want)
		}
		// Both IDs are the same string, so Job finds the archived job too.
		if j, err := st.Job(ctx, f.employer.ID, j5.ExternalID); err != nil || j.ArchivedAt.IsZero() {
			t.Errorf("Job(archived) = %+v, %v", j, err)
		}
	})
}
