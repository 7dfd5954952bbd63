package atsgate

import (
	"context"
	"strings"
	"time"
)

// LogEntry is one API request as the integration log keeps it. Bodies are
// cut to MaxLoggedBody bytes; the key appears only as its prefix.
type LogEntry struct {
	ID           int64
	Time         time.Time
	CountryID    int64 // 0 when the host named no country
	EmployerID   int64 // 0 when authentication failed
	KeyPrefix    string
	Dialect      string // DialectATS or DialectERP
	Operation    string // create, update, close, get, list, taxonomy, …
	Source       string // the ERP source's name; "" for the ATS dialect
	ExternalID   string
	Status       int
	ErrorCode    string
	Duration     time.Duration
	ClientIP     string
	RequestID    string
	Method       string
	Path         string
	RequestBody  string
	ResponseBody string
}

// MaxLoggedBody is how much of each body the integration log keeps.
const MaxLoggedBody = 16 << 10

// LogFilter selects integration log entries, newest first.
type LogFilter struct {
	EmployerID int64
	Operation  string
	Dialect    string // DialectATS or DialectERP; "" for both
	Source     string // an ERP source's name
	// Action is the ERP seed's view of an entry: every entry records a
	// request (ActionRequest matches all), its response was a success
	// (ActionResponse: status below 400) or an error (ActionError).
	Action      string
	Status      int // exact status; 0 for any
	StatusClass int // 4 for 4xx, 5 for 5xx; 0 for any
	Since       time.Time
	Until       time.Time
	BeforeID    int64 // keyset: entries with a smaller ID
	Limit       int
}

// IntegrationLog stores and reads the integration log.
type IntegrationLog interface {
	// AppendLogs writes a batch of entries.
	AppendLogs(ctx context.Context, entries []LogEntry) error
	// Logs returns entries matching f, newest first.
	Logs(ctx context.Context, f LogFilter) ([]LogEntry, error)
	// PurgeLogs deletes entries older than before and returns how many.
	PurgeLogs(ctx context.Context, before time.Time) (int64, error)
}

// Integration log actions, as the ERP seed names them.
const (
	ActionRequest  = "REQUEST"
	ActionResponse = "RESPONSE"
	ActionError    = "ERROR"
)

// LogAction is the action an entry with this status shows: ERROR for a
// refusal or failure, RESPONSE for a success.
func LogAction(status int) string {
	if status >= 400 {
		return ActionError
	}
	return ActionResponse
}

// CheckLogAction says what is wrong with an action filter, or "".
func CheckLogAction(a string) string {
	switch a {
	case "", ActionRequest, ActionResponse, ActionError:
		return ""
	}
	return "must be one of REQUEST, RESPONSE, ERROR"
}

// CheckLogDialect says what is wrong with a dialect filter, or "".
func CheckLogDialect(d string) string {
	switch d {
	case "", DialectATS, DialectERP:
		return ""
	}
	return "must be ats or erp"
}

// LogOperations are the operations the integration log files requests
// under, as its filters offer them: the ATS jobs URL's five, "invalid" for
// a method or action that URL does not have, and "unknown" for a path no
// endpoint serves. A new dialect adds its own here.
//
// The ERP dialect's are named for the seed's actions: "health",
// "create_job", "update_job" and "batch".
var LogOperations = []string{"create", "update", "close", "get", "list", "invalid", "unknown",
	"health", "create_job", "update_job", "batch"}

// CheckLogOperation says what is wrong with an operation filter, naming
// the valid ones, or "" when it is one of LogOperations.
func CheckLogOperation(op string) string {
	for _, o := range LogOperations {
		if op == o {
			return ""
		}
	}
	return "must be one of " + strings.Join(LogOperations, ", ")
}
