package erp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// BatchData is the data of a batch: one result per operation, in the
// order they were sent, and the counts.
type BatchData struct {
	Results   []BatchResult `json:"results"`
	Succeeded int           `json:"succeeded"`
	Failed    int           `json:"failed"`
}

// BatchResult is one operation's outcome: its own envelope, with the HTTP
// status it would have had alone, its index and its action.
type BatchResult struct {
	Index      int    `json:"index"`
	Action     string `json:"action"`
	HTTPStatus int    `json:"http_status"`
	Envelope
}

// Batch is POST batch/: {"action": "batch", "source_name": …,
// "operations": [create_job or update_job bodies]}. Each operation runs
// on its own, as if sent alone (each create is charged on its own, and a
// failing one undoes nothing else); the batch answers 200 with every
// result in order. A batch is one request to the rate limiter.
func (h *Handler) Batch(c echo.Context) error {
	raw, err := h.readObject(c)
	if err != nil {
		return err
	}
	var head struct {
		Action     *string            `json:"action"`
		SourceName *string            `json:"source_name"`
		Operations *[]json.RawMessage `json:"operations"`
	}
	for k, dst := range map[string]any{"action": &head.Action, "source_name": &head.SourceName, "operations": &head.Operations} {
		if v, ok := raw[k]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				want := "a string"
				if k == "operations" {
					want = "an array of objects"
				}
				return fieldError(atsgate.EINVALIDTYPE, k, "must be "+want)
			}
		}
	}
	switch {
	case head.Action == nil || strings.TrimSpace(*head.Action) == "":
		return fieldError(atsgate.EMISSINGFIELD, "action", "is required")
	case head.SourceName == nil || strings.TrimSpace(*head.SourceName) == "":
		return fieldError(atsgate.EMISSINGFIELD, "source_name", "is required")
	case strings.TrimSpace(*head.Action) != actionBatch:
		return fieldError(atsgate.EINVALIDTYPE, "action", `must be "batch" at this endpoint`)
	case head.Operations == nil || len(*head.Operations) == 0:
		return fieldError(atsgate.EMISSINGFIELD, "operations", "is required and must hold at least one operation")
	case len(*head.Operations) > atsgate.MaxBatchOperations:
		return &atsgate.Error{Code: atsgate.EBATCHTOOLARGE,
			Message: fmt.Sprintf("a batch holds at most %d operations; this one has %d: split it", atsgate.MaxBatchOperations, len(*head.Operations)),
			Fields:  map[string]string{"operations": fmt.Sprintf("must hold at most %d operations", atsgate.MaxBatchOperations)}}
	}
	if err := checkSource(c, strings.TrimSpace(*head.SourceName)); err != nil {
		return err
	}
	ops := *head.Operations
	data := &BatchData{Results: make([]BatchResult, len(ops))}
	for i, op := range ops {
		start := time.Now()
		res := h.operation(c, op, strings.TrimSpace(*head.SourceName))
		br := BatchResult{Index: i, Action: res.action, HTTPStatus: res.status,
			Envelope: Envelope{Status: "success", Message: res.message}}
		if res.data != nil {
			br.Data = res.data
		}
		if res.err != nil {
			e, status := mw.Classify(res.err)
			if e.Code == atsgate.EINVALID {
				status = http.StatusBadRequest
			}
			br.HTTPStatus, br.Status, br.Message, br.ErrorCode, br.Errors = status, "error", atsgate.ErrorMessage(e), wireCode(e.Code), e.Fields
			switch {
			case e.JobID != "":
				br.Data = &ErrorData{JobID: e.JobID}
			case e.Funds != nil:
				br.Data = &ErrorData{Balance: e.Funds.Balance.String(), Price: e.Funds.Price.String(), Currency: e.Funds.Currency}
			}
			data.Failed++
		} else {
			data.Succeeded++
		}
		br.ProcessingTime = float64(time.Since(start).Microseconds()) / 1e6
		data.Results[i] = br
	}
	msg := fmt.Sprintf("Batch processed: %d of %d operations succeeded", data.Succeeded, len(ops))
	return respond(c, http.StatusOK, msg, data)
}

// batchResult is an operation's result and its action.
type batchResult struct {
	result
	action string
}

// operation runs one batch operation. An operation may leave out
// source_name (the batch names it); one that names another source is
// refused like a single request would be.
func (h *Handler) operation(c echo.Context, op json.RawMessage, source string) batchResult {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(op, &raw); err != nil || raw == nil {
		return batchResult{result: result{err: atsgate.Errorf(atsgate.EINVALIDJSON, "each operation must be a JSON object")}}
	}
	var action string
	if v, ok := raw["action"]; ok {
		_ = json.Unmarshal(v, &action)
	}
	action = strings.TrimSpace(action)
	if _, ok := raw["source_name"]; !ok {
		raw["source_name"], _ = json.Marshal(source)
	}
	switch action {
	case actionCreate:
		return batchResult{result: h.create(c, raw), action: action}
	case actionUpdate:
		return batchResult{result: h.update(c, raw), action: action}
	case "":
		return batchResult{result: result{err: fieldError(atsgate.EMISSINGFIELD, "action", "is required")}}
	}
	return batchResult{result: result{err: fieldError(atsgate.EINVALIDTYPE, "action", `must be "create_job" or "update_job"`)}, action: action}
}
