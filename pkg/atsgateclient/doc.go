// Package atsgateclient is a Go client of atsgate's ATS API (docs/api.md;
// the contract is the OpenAPI document served at /api/openapi.json), and
// a verifier of its signed webhooks (docs/webhooks.md).
//
// A Client creates, updates, closes, reads and lists an employer's jobs
// with one API key, on the host of the key's country:
//
//	c, err := atsgateclient.New("https://gh.example.com", os.Getenv("ATSGATE_KEY"))
//	job, err := c.Create(ctx, atsgateclient.JobInput{ExternalID: "JOB-42", Title: "Welder", Description: "…"})
//	for job, err := range c.List(ctx, atsgateclient.ListOptions{State: atsgateclient.StatePublished}) { … }
//
// # Retries
//
// Every call is retried on a transport error (no answer, a connection cut),
// on 429 and on 503, with exponential backoff and jitter, waiting at
// least what Retry-After says, until the context ends or the retries run
// out. Every operation of the API is safe to repeat: a create is keyed by
// its external_id, so a create whose answer was lost is answered, when
// retried, with the stored job (Job.Replayed) and is never charged twice;
// an update sets values; closing a closed job changes nothing.
//
// # Errors
//
// A refusal is an *APIError with the HTTP status, the stable Code (switch
// on it, not on Message), the invalid Fields of a validation_failed, and
// the Balance and Price of an insufficient_funds. Money is a decimal
// string, never a float.
//
// # Rate limits
//
// Client.RateLimit is the key's allowance as the last response stated it.
//
// # Webhooks
//
// VerifyWebhook checks an event's Atsgate-Signature header against the
// endpoint's signing secret and its age, and parses the Event.
//
// The package uses only the standard library.
package atsgateclient
