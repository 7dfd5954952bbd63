package atsgateclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client calls the ATS API with one employer's key. It is safe for
// concurrent use.
type Client struct {
	base       *url.URL
	key        string
	host       string
	hc         *http.Client
	userAgent  string
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration

	mu   sync.Mutex
	rate RateLimit
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends requests with hc (its transport, timeouts, TLS and
// proxy settings) instead of a client with a 30-second timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetries sets how many times a call is retried after its first try
// (default 4); 0 turns retries off.
func WithRetries(n int) Option { return func(c *Client) { c.maxRetries = max(0, n) } }

// WithBackoff sets the first retry's wait and the cap of the exponential
// backoff (defaults 500 ms and 30 s). Each wait is drawn at random up to
// min(max, min·2^attempt), and is never shorter than Retry-After.
func WithBackoff(minWait, maxWait time.Duration) Option {
	return func(c *Client) { c.minBackoff, c.maxBackoff = minWait, max(minWait, maxWait) }
}

// WithHost sends requests with this Host header, for a base URL that names
// an address rather than the country's host name.
func WithHost(host string) Option { return func(c *Client) { c.host = host } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the API at baseURL (the country site's origin,
// such as https://gh.example.com) with an employer's API key.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("atsgateclient: base URL %q is not an absolute http(s) URL", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("atsgateclient: the API key is empty")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, key: apiKey, hc: &http.Client{Timeout: 30 * time.Second}, userAgent: "atsgateclient",
		maxRetries: 4, minBackoff: 500 * time.Millisecond, maxBackoff: 30 * time.Second}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// RateLimit is the API key's allowance as a response stated it.
type RateLimit struct {
	// Known is false until a response carried the rate-limit headers
	// (refusals before authentication do not).
	Known bool
	// Limit is the requests allowed per window.
	Limit int
	// Remaining is what is left in the current window.
	Remaining int
	// Reset is the time until a slot frees.
	Reset time.Duration
	// At is when the response came.
	At time.Time
}

// RateLimit is the rate-limit state of the last response that carried
// one.
func (c *Client) RateLimit() RateLimit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate
}

// Create creates a job, charged the employer's per-job price. A create
// whose external_id the employer has used already returns the stored job
// with Replayed set, creating and charging nothing; so it is retried
// safely, and so is calling Create again after an error that left you
// unsure whether the job was made.
func (c *Client) Create(ctx context.Context, in JobInput) (*Job, error) {
	return c.job(ctx, http.MethodPost, "", in)
}

// Update changes the job named by in.ExternalID: the fields set replace
// the stored values, the others stay. An update of a published job that
// changes what visitors see may wait for review (Job.PendingEdit).
func (c *Client) Update(ctx context.Context, in JobUpdate) (*Job, error) {
	return c.job(ctx, http.MethodPut, "", in)
}

// Close closes a job. Closing a job that has already ended returns it as
// it is.
func (c *Client) Close(ctx context.Context, externalID string) (*Job, error) {
	return c.job(ctx, http.MethodPost, "action=close", map[string]string{"external_id": externalID})
}

// Get reads one job; an unknown one is an *APIError with CodeNotFound.
func (c *Client) Get(ctx context.Context, externalID string) (*Job, error) {
	return c.job(ctx, http.MethodGet, "external_id="+url.QueryEscape(externalID), nil)
}

func (c *Client) job(ctx context.Context, method, query string, body any) (*Job, error) {
	var j Job
	res, err := c.do(ctx, method, query, body, &j)
	if err != nil {
		return nil, err
	}
	j.Replayed = res.Header.Get("Idempotent-Replayed") == "true"
	return &j, nil
}

// ListOptions filter and size a listing.
type ListOptions struct {
	// State lists only jobs in this state; "" lists all.
	State State
	// Limit is the page size, 1–200 (the server's default, 50, when 0).
	Limit int
	// Cursor starts after a page that ended with this NextCursor.
	Cursor string
}

// Page is one page of a listing.
type Page struct {
	Jobs []Job `json:"jobs"`
	// NextCursor continues the listing; "" on the last page.
	NextCursor string `json:"next_cursor"`
}

// ListPage reads one page of the employer's jobs, newest first.
func (c *Client) ListPage(ctx context.Context, opts ListOptions) (*Page, error) {
	q := url.Values{}
	if opts.State != "" {
		q.Set("state", string(opts.State))
	}
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var p Page
	if _, err := c.do(ctx, http.MethodGet, q.Encode(), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// List iterates over the employer's jobs, newest first, a page at a time
// from the first page (or opts.Cursor). Jobs created meanwhile do not
// shift the pages. An error ends the iteration after being yielded once.
func (c *Client) List(ctx context.Context, opts ListOptions) iter.Seq2[*Job, error] {
	return func(yield func(*Job, error) bool) {
		for {
			p, err := c.ListPage(ctx, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range p.Jobs {
				if !yield(&p.Jobs[i], nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			opts.Cursor = p.NextCursor
		}
	}
}

// do sends a request to the jobs URL, retrying as the package doc says,
// and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, method, query string, body any, out any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("atsgateclient: encode the request: %w", err)
		}
	}
	u := *c.base
	u.Path += "/api/ats/jobs"
	u.RawQuery = query
	for attempt := 0; ; attempt++ {
		res, data, err := c.once(ctx, method, u.String(), payload)
		if err != nil && ctx.Err() != nil {
			return nil, err // the caller's context ended: final
		}
		retry, wait := c.retryable(res, err, attempt)
		if err == nil && res.StatusCode >= 200 && res.StatusCode < 300 {
			if err := json.Unmarshal(data, out); err != nil {
				return nil, fmt.Errorf("atsgateclient: %s %s: decode the answer (status %d): %w", method, u.Path, res.StatusCode, err)
			}
			return res, nil
		}
		if err == nil {
			err = apiError(res, data)
		}
		if !retry || attempt >= c.maxRetries {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("atsgateclient: gave up waiting to retry: %w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// once sends one request and reads the whole answer.
func (c *Client) once(ctx context.Context, method, target string, payload []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("atsgateclient: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.host != "" {
		req.Host = c.host
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("atsgateclient: %s %s: %w", method, req.URL.Path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("atsgateclient: %s %s: read the answer: %w", method, req.URL.Path, err)
	}
	c.noteRate(res.Header)
	return res, data, nil
}

// retryable says whether to retry after this outcome, and how long to
// wait first.
func (c *Client) retryable(res *http.Response, err error, attempt int) (bool, time.Duration) {
	backoff := c.backoff(attempt)
	switch {
	case err != nil:
		// Refused, reset, timed out or cut: the next try may pass (do
		// stops first when the caller's context has ended).
		return true, backoff
	case res.StatusCode == http.StatusTooManyRequests, res.StatusCode == http.StatusServiceUnavailable:
		return true, max(backoff, retryAfter(res.Header))
	}
	return false, 0
}

// backoff is the jittered exponential wait before retry attempt+1.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.maxBackoff
	if attempt < 30 {
		d = min(c.maxBackoff, c.minBackoff<<attempt)
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1) // "equal jitter": at least half, so a retry never comes at once
}

// retryAfter reads Retry-After in seconds or as an HTTP date; 0 when absent.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// noteRate keeps the rate-limit state a response carries.
func (c *Client) noteRate(h http.Header) {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.Atoi(h.Get("X-RateLimit-Reset"))
	if err1 != nil || err2 != nil || err3 != nil {
		return
	}
	c.mu.Lock()
	c.rate = RateLimit{Known: true, Limit: limit, Remaining: remaining, Reset: time.Duration(reset) * time.Second, At: time.Now()}
	c.mu.Unlock()
}
