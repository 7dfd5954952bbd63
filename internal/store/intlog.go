package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/atsgate/atsgate/internal/atsgate"
)

type logRow struct {
	ID           int64 `gorm:"primaryKey"`
	CreatedAt    time.Time
	CountryID    int64
	EmployerID   int64
	KeyPrefix    string
	Dialect      string
	Operation    string
	Source       string
	ExternalID   string
	Status       int
	ErrorCode    string
	DurationUS   int64 `gorm:"column:duration_us"`
	ClientIP     string
	RequestID    string
	Method       string
	Path         string
	RequestBody  string
	ResponseBody string
}

func (logRow) TableName() string { return "integration_logs" }

func logFromRow(r *logRow) atsgate.LogEntry {
	return atsgate.LogEntry{
		ID: r.ID, Time: r.CreatedAt.UTC(), CountryID: r.CountryID, EmployerID: r.EmployerID,
		KeyPrefix: r.KeyPrefix, Dialect: r.Dialect, Operation: r.Operation, Source: r.Source, ExternalID: r.ExternalID,
		Status: r.Status, ErrorCode: r.ErrorCode, Duration: time.Duration(r.DurationUS) * time.Microsecond,
		ClientIP: r.ClientIP, RequestID: r.RequestID, Method: r.Method, Path: r.Path,
		RequestBody: r.RequestBody, ResponseBody: r.ResponseBody,
	}
}

// Log listing bounds.
const (
	defaultLogLimit = 50
	maxLogLimit     = 1000
	// logBatchRows keeps one INSERT well under the bind-parameter limits of
	// both databases (17 columns × 500 rows = 8500 parameters).
	logBatchRows = 500
	// purgeChunk bounds how many rows one DELETE removes, so a large purge
	// never holds one long transaction.
	purgeChunk = 5000
)

// logColumns are the integration_logs columns AppendLogs writes, in the
// order of logRow.values.
var logColumns = []string{"created_at", "country_id", "employer_id", "key_prefix", "dialect", "operation",
	"external_id", "status", "error_code", "duration_us", "client_ip", "request_id", "method", "path",
	"request_body", "response_body", "source"}

func (r *logRow) values() []any {
	return []any{r.CreatedAt, r.CountryID, r.EmployerID, r.KeyPrefix, r.Dialect, r.Operation, r.ExternalID,
		r.Status, r.ErrorCode, r.DurationUS, r.ClientIP, r.RequestID, r.Method, r.Path, r.RequestBody, r.ResponseBody, r.Source}
}

// AppendLogs implements atsgate.IntegrationLog. On PostgreSQL the batch is
// one COPY, the cheapest bulk load for the server, so the log costs the
// API's own transactions little; on SQLite it is one multi-row INSERT per
// 500 entries. Entries without a time get the store's clock. The entries'
// IDs are not filled in. The store's timeout does not apply: a batch is
// far more work than a request's, and the writer bounds each batch itself.
func (s *Store) AppendLogs(ctx context.Context, entries []atsgate.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := s.now().UTC()
	rows := make([]logRow, len(entries))
	for i := range entries {
		e := &entries[i]
		t := e.Time.UTC()
		if e.Time.IsZero() {
			t = now
		}
		rows[i] = logRow{
			CreatedAt: t, CountryID: e.CountryID, EmployerID: e.EmployerID, KeyPrefix: e.KeyPrefix,
			Dialect: e.Dialect, Operation: e.Operation, Source: e.Source, ExternalID: e.ExternalID, Status: e.Status,
			ErrorCode: e.ErrorCode, DurationUS: e.Duration.Microseconds(), ClientIP: e.ClientIP,
			RequestID: e.RequestID, Method: e.Method, Path: e.Path,
			RequestBody: e.RequestBody, ResponseBody: e.ResponseBody,
		}
	}
	var err error
	if s.dialect == Postgres {
		err = s.copyLogs(ctx, rows)
	} else {
		err = s.db.WithContext(ctx).CreateInBatches(rows, logBatchRows).Error
	}
	if err != nil {
		return translate(err, fmt.Sprintf("append %d integration log entries", len(rows)))
	}
	return nil
}

// copyLogs loads rows with COPY on a pool connection.
func (s *Store) copyLogs(ctx context.Context, rows []logRow) error {
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy: unexpected driver connection %T", dc)
		}
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rows) {
				return nil, nil
			}
			i++
			return rows[i-1].values(), nil
		})
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{"integration_logs"}, logColumns, src)
		return err
	})
}

// Logs implements atsgate.IntegrationLog: entries matching f, newest first
// (by id, which follows insertion order). f.Limit defaults to 50 and is
// capped at 1000; f.BeforeID pages on from the last entry of a page.
func (s *Store) Logs(ctx context.Context, f atsgate.LogFilter) ([]atsgate.LogEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.rdb.WithContext(ctx).Model(&logRow{})
	if f.EmployerID != 0 {
		q = q.Where("employer_id = ?", f.EmployerID)
	}
	if f.Operation != "" {
		q = q.Where("operation = ?", f.Operation)
	}
	if f.Dialect != "" {
		q = q.Where("dialect = ?", f.Dialect)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	// Every entry is a request; RESPONSE and ERROR split them by outcome.
	switch f.Action {
	case atsgate.ActionResponse:
		q = q.Where("status < 400")
	case atsgate.ActionError:
		q = q.Where("status >= 400")
	}
	switch {
	case f.Status != 0:
		q = q.Where("status = ?", f.Status)
	case f.StatusClass != 0:
		q = q.Where("status >= ? AND status < ?", f.StatusClass*100, f.StatusClass*100+100)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLogLimit
	}
	limit = min(limit, maxLogLimit)
	var rows []logRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "list integration log")
	}
	out := make([]atsgate.LogEntry, len(rows))
	for i := range rows {
		out[i] = logFromRow(&rows[i])
	}
	return out, nil
}

// PurgeLogs implements atsgate.IntegrationLog. It deletes in chunks so a
// backlog of millions of rows never becomes one long transaction; each
// chunk is bounded by the store's timeout, the whole purge is not.
func (s *Store) PurgeLogs(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.bounded(ctx, func(ctx context.Context) error {
			res := s.db.WithContext(ctx).Exec(
				`DELETE FROM integration_logs WHERE id IN (SELECT id FROM integration_logs WHERE created_at < ? ORDER BY id LIMIT ?)`,
				before.UTC(), purgeChunk)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return total, translate(err, "purge integration log")
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}

var _ atsgate.IntegrationLog = (*Store)(nil)
