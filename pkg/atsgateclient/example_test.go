package atsgateclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/atsgate/atsgate/pkg/atsgateclient"
)

// fakeAPI stands in for a country site in the examples: it answers the
// way the server does (the real server is in the tests of internal/web).
func fakeAPI() *httptest.Server {
	record := func(id, state string) string {
		return `{"external_id":"` + id + `","state":"` + state + `","received_date":"2026-06-18 09:14:32","published_date":"","public_link":"","amount_charged":"50","title":"Welder","deadline":"2026-09-30","updated_date":"2026-06-18 09:14:32","closed_date":"","disapproval_reason":"","pending_edit":false}`
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header()["X-RateLimit-Limit"] = []string{"120"}
		w.Header()["X-RateLimit-Remaining"] = []string{"119"}
		w.Header()["X-RateLimit-Reset"] = []string{"60"}
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost && strings.Contains(string(body), `"POOR-1"`):
			w.WriteHeader(http.StatusPaymentRequired)
			io.WriteString(w, `{"error":{"code":"insufficient_funds","message":"the wallet balance does not cover the price of a job; top up and retry","balance":"10","price":"50","currency":"GHS"}}`)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, record("JOB-42", "pending_review"))
		case r.URL.Query().Get("cursor") == "" && !r.URL.Query().Has("external_id"):
			io.WriteString(w, `{"jobs":[`+record("JOB-44", "published")+`,`+record("JOB-43", "published")+`],"next_cursor":"djE6Mw"}`)
		default:
			io.WriteString(w, `{"jobs":[`+record("JOB-42", "published")+`],"next_cursor":""}`)
		}
	}))
}

func Example() {
	srv := fakeAPI() // your country site, e.g. https://gh.example.com
	defer srv.Close()
	c, err := atsgateclient.New(srv.URL, "mjm_gh_AbCdEf")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	job, err := c.Create(ctx, atsgateclient.JobInput{
		ExternalID:  "JOB-42",
		Title:       "Welder",
		Description: "<p>Welds pipelines.</p>",
		Deadline:    "2026-09-30",
		ApplyURL:    "https://careers.example.com/apply/42",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(job.ExternalID, job.State, job.AmountCharged)
	fmt.Println("requests left this minute:", c.RateLimit().Remaining)
	// Output:
	// JOB-42 pending_review 50
	// requests left this minute: 119
}

func ExampleClient_List() {
	srv := fakeAPI()
	defer srv.Close()
	c, _ := atsgateclient.New(srv.URL, "mjm_gh_AbCdEf")
	// Every published job, page after page.
	for job, err := range c.List(context.Background(), atsgateclient.ListOptions{State: atsgateclient.StatePublished}) {
		if err != nil {
			fmt.Println("list:", err)
			break
		}
		fmt.Println(job.ExternalID)
	}
	// Output:
	// JOB-44
	// JOB-43
	// JOB-42
}

func ExampleAPIError() {
	srv := fakeAPI()
	defer srv.Close()
	c, _ := atsgateclient.New(srv.URL, "mjm_gh_AbCdEf")
	_, err := c.Create(context.Background(), atsgateclient.JobInput{ExternalID: "POOR-1", Title: "Welder", Description: "Welds."})
	var ae *atsgateclient.APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case atsgateclient.CodeInsufficientFunds:
			fmt.Printf("top up: balance %s %s, a job costs %s\n", ae.Balance, ae.Currency, ae.Price)
		case atsgateclient.CodeValidationFailed:
			fmt.Println("fix:", ae.Fields)
		}
	}
	// Output:
	// top up: balance 10 GHS, a job costs 50
}

func ExampleVerifyWebhook() {
	secret := "whsec_example" // shown once when the endpoint was set
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the raw body: verify before parsing
		ev, err := atsgateclient.VerifyWebhook(secret, r.Header.Get(atsgateclient.SignatureHeader), body, atsgateclient.DefaultTolerance)
		if err != nil {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		// Delivery is at least once: skip an ev.ID already handled.
		fmt.Println(ev.Type, ev.Data.Job.ExternalID, ev.Data.Job.State)
		w.WriteHeader(http.StatusNoContent)
	})

	// What atsgate sends:
	body := []byte(`{"id":"evt_1","type":"job.published","created":"2026-06-18T09:14:32Z","employer_id":7,"data":{"job":{"external_id":"JOB-42","state":"published"}}}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/atsgate", strings.NewReader(string(body)))
	req.Header.Set(atsgateclient.SignatureHeader, atsgateclient.SignWebhook(secret, time.Now(), body))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// job.published JOB-42 published
	// 204
}
