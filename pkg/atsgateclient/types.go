package atsgateclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// State is a job's lifecycle state.
type State string

// The states of a job.
const (
	StatePendingReview State = "pending_review"
	StatePublished     State = "published"
	StateDisapproved   State = "disapproved"
	StateClosed        State = "closed"
	StateExpired       State = "expired"
)

// Job is the job record the API answers with. Dates are "YYYY-MM-DD
// HH:MM:SS" in the country's time zone, "" when they have not happened.
type Job struct {
	ExternalID    string `json:"external_id"`
	State         State  `json:"state"`
	ReceivedDate  string `json:"received_date"`
	PublishedDate string `json:"published_date"`
	// PublicLink is the job's page, "" until it is published.
	PublicLink string `json:"public_link"`
	// AmountCharged is a decimal string in the country's currency.
	AmountCharged     string `json:"amount_charged"`
	Title             string `json:"title"`
	Deadline          string `json:"deadline"`
	UpdatedDate       string `json:"updated_date"`
	ClosedDate        string `json:"closed_date"`
	DisapprovalReason string `json:"disapproval_reason"`
	// PendingEdit is true while an update of the published job waits for
	// review; the other fields are the live values until it is approved.
	PendingEdit bool `json:"pending_edit"`
	// Warnings names, on a create or update, what was accepted but
	// ignored (an unreadable deadline).
	Warnings map[string]string `json:"warnings,omitempty"`
	// Replayed is true when a create found the job already made with
	// this external_id: nothing was created or charged.
	Replayed bool `json:"-"`
}

// JobInput is a create. ExternalID, Title and Description are required;
// the zero value of every other field is not sent.
type JobInput struct {
	ExternalID  string `json:"external_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Deadline is the last day to apply, YYYY-MM-DD.
	Deadline                string `json:"deadline,omitempty"`
	ApplyURL                string `json:"apply_url,omitempty"`
	ApplyEmail              string `json:"apply_email,omitempty"`
	MinExperience           *int   `json:"min_experience,omitempty"`
	MaxExperience           *int   `json:"max_experience,omitempty"`
	Salary                  *int64 `json:"salary,omitempty"`
	Specialization          int64  `json:"specialization,omitempty"`
	States                  []int  `json:"states,omitempty"`
	Qualifications          []int  `json:"qualifications,omitempty"`
	ShowCompanyName         *bool  `json:"show_company_name,omitempty"`
	CompanyName             string `json:"company_name,omitempty"`
	CompanyWebsite          string `json:"company_website,omitempty"`
	CompanyLogoURL          string `json:"company_logo_url,omitempty"`
	CompanyAbout            string `json:"company_about,omitempty"`
	Department              string `json:"department,omitempty"`
	LocationCity            string `json:"location_city,omitempty"`
	Benefits                string `json:"benefits,omitempty"`
	ApplicationInstructions string `json:"application_instructions,omitempty"`
	// JobType is FULL_TIME, PART_TIME, CONTRACT, INTERNSHIP, FACULTY or
	// TEMPORARY.
	JobType string `json:"job_type,omitempty"`
	// WorkplaceType is ON_SITE, REMOTE or HYBRID.
	WorkplaceType string `json:"workplace_type,omitempty"`
}

// JobUpdate is an update of the job named by ExternalID: a nil field is
// not sent and stays as it is; a pointer to "" clears an optional text
// field. Ptr makes the pointers.
type JobUpdate struct {
	ExternalID              string  `json:"external_id"`
	Title                   *string `json:"title,omitempty"`
	Description             *string `json:"description,omitempty"`
	Deadline                *string `json:"deadline,omitempty"`
	ApplyURL                *string `json:"apply_url,omitempty"`
	ApplyEmail              *string `json:"apply_email,omitempty"`
	MinExperience           *int    `json:"min_experience,omitempty"`
	MaxExperience           *int    `json:"max_experience,omitempty"`
	Salary                  *int64  `json:"salary,omitempty"`
	Specialization          *int64  `json:"specialization,omitempty"`
	States                  *[]int  `json:"states,omitempty"`
	Qualifications          *[]int  `json:"qualifications,omitempty"`
	ShowCompanyName         *bool   `json:"show_company_name,omitempty"`
	CompanyName             *string `json:"company_name,omitempty"`
	CompanyWebsite          *string `json:"company_website,omitempty"`
	CompanyLogoURL          *string `json:"company_logo_url,omitempty"`
	CompanyAbout            *string `json:"company_about,omitempty"`
	Department              *string `json:"department,omitempty"`
	LocationCity            *string `json:"location_city,omitempty"`
	Benefits                *string `json:"benefits,omitempty"`
	ApplicationInstructions *string `json:"application_instructions,omitempty"`
	JobType                 *string `json:"job_type,omitempty"`
	WorkplaceType           *string `json:"workplace_type,omitempty"`
}

// Ptr returns a pointer to v, for the optional fields of JobInput and
// JobUpdate.
func Ptr[T any](v T) *T { return &v }

// The stable error codes (APIError.Code).
const (
	CodeInvalidJSON       = "invalid_json"       // 400
	CodeUnauthorized      = "unauthorized"       // 401
	CodeInsufficientFunds = "insufficient_funds" // 402
	CodeForbidden         = "forbidden"          // 403
	CodeNotFound          = "not_found"          // 404
	CodeUnknownHost       = "unknown_host"       // 404
	CodeMethodNotAllowed  = "method_not_allowed" // 405
	CodeConflict          = "conflict"           // 409
	CodePayloadTooLarge   = "payload_too_large"  // 413
	CodeValidationFailed  = "validation_failed"  // 422
	CodeRateLimited       = "rate_limited"       // 429
	CodeInternal          = "internal"           // 500
	CodeUnavailable       = "unavailable"        // 503
)

// APIError is a refusal from the API.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Code is the stable error code (the Code… constants); switch on it.
	Code string
	// Message is for people and may change.
	Message string
	// Fields, with CodeValidationFailed, says what is wrong with each
	// field.
	Fields map[string]string
	// Balance, Price and Currency come with CodeInsufficientFunds: the
	// wallet's balance and the job's price, as decimal strings.
	Balance, Price, Currency string
	// RetryAfter is the wait the server asked for (429, 503); 0 if none.
	RetryAfter time.Duration
	// RequestID identifies the request in the server's logs.
	RequestID string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "atsgate: %d %s: %s", e.Status, e.Code, e.Message)
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for i, k := range names {
			sep := "; "
			if i > 0 {
				sep = ", "
			}
			fmt.Fprintf(&b, "%s%s %s", sep, k, e.Fields[k])
		}
	}
	if e.Code == CodeInsufficientFunds {
		fmt.Fprintf(&b, " (balance %s %s, price %s)", e.Balance, e.Currency, e.Price)
	}
	return b.String()
}

// apiError reads an error answer; one that is not the API's error body
// (a proxy's page) keeps its status with the code "".
func apiError(res *http.Response, body []byte) *APIError {
	var w struct {
		Error struct {
			Code     string            `json:"code"`
			Message  string            `json:"message"`
			Fields   map[string]string `json:"fields"`
			Balance  string            `json:"balance"`
			Price    string            `json:"price"`
			Currency string            `json:"currency"`
		} `json:"error"`
	}
	e := &APIError{Status: res.StatusCode, RetryAfter: retryAfter(res.Header), RequestID: res.Header.Get("X-Request-ID")}
	if json.Unmarshal(body, &w) != nil || w.Error.Code == "" {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
		if e.Message == "" {
			e.Message = http.StatusText(res.StatusCode)
		}
		return e
	}
	e.Code, e.Message, e.Fields = w.Error.Code, w.Error.Message, w.Error.Fields
	e.Balance, e.Price, e.Currency = w.Error.Balance, w.Error.Price, w.Error.Currency
	return e
}
