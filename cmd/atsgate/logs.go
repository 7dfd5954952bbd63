package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

// cmdLogs reads the integration log, newest first.
func cmdLogs(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := fs.String("employer", "", "only this employer's requests (ID)")
	since := fs.String("since", "", "only requests from this long ago (1h, 30m, 7d) or since this time (2026-10-01, RFC 3339)")
	until := fs.String("until", "", "only requests before this time (2026-10-01, RFC 3339)")
	status := fs.String("status", "", "only this status (404) or class (4xx, 5xx)")
	op := fs.String("operation", "", "only this operation: "+strings.Join(atsgate.LogOperations, ", "))
	dialect := fs.String("dialect", "", "only this dialect: ats or erp")
	source := fs.String("source", "", "only this ERP source's requests (its name)")
	action := fs.String("action", "", "only REQUEST (all), RESPONSE (succeeded) or ERROR (failed), as the ERP seed names them")
	limit := fs.Int("limit", 50, "at most this many entries (1-1000)")
	before := fs.String("before", "", "only entries older than this entry ID (the next page)")
	bodies := fs.Bool("bodies", false, "also print request and response bodies (text output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	f := atsgate.LogFilter{Operation: strings.TrimSpace(*op), Limit: *limit, Dialect: strings.ToLower(strings.TrimSpace(*dialect)),
		Source: strings.TrimSpace(*source), Action: strings.ToUpper(strings.TrimSpace(*action))}
	if msg := atsgate.CheckLogDialect(f.Dialect); msg != "" {
		return &usageError{msg: "--dialect " + msg}
	}
	if msg := atsgate.CheckLogAction(f.Action); msg != "" {
		return &usageError{msg: "--action " + msg}
	}
	if *limit < 1 || *limit > 1000 {
		return &usageError{msg: "--limit must be between 1 and 1000"}
	}
	if f.Operation != "" {
		if msg := atsgate.CheckLogOperation(f.Operation); msg != "" {
			return &usageError{msg: "--operation " + msg}
		}
	}
	var err error
	if *emp != "" {
		if f.EmployerID, err = parseID("employer", *emp); err != nil {
			return err
		}
	}
	if *before != "" {
		if f.BeforeID, err = parseID("before", *before); err != nil {
			return err
		}
	}
	if *since != "" {
		if f.Since, err = parseSince(*since, now); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
	}
	if *until != "" {
		if f.Until, err = parseSince(*until, now); err != nil {
			return fmt.Errorf("--until: %w", err)
		}
	}
	if *status != "" {
		if f.Status, f.StatusClass, err = parseStatus(*status); err != nil {
			return err
		}
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	entries, err := st.Logs(ctx, f)
	if err != nil {
		return cliError(err)
	}
	out := wire.NewLogEntries(entries)
	return e.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tTIME (UTC)\tEMPLOYER\tKEY\tDIALECT\tSOURCE\tOPERATION\tEXTERNAL ID\tSTATUS\tERROR\tMS\tCLIENT IP\tREQUEST ID")
		for i, l := range out {
			fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%.1f\t%s\t%s\n", l.ID,
				entries[i].Time.UTC().Format(atsgate.DateTimeLayout), l.EmployerID, dash(l.KeyPrefix), clean(l.Dialect), dash(l.Source), clean(l.Operation),
				dash(l.ExternalID), l.Status, dash(l.ErrorCode), l.DurationMS, clean(l.ClientIP), clean(l.RequestID))
			if *bodies {
				// Below the row, not in it: a body is long and has lines
				// of its own, which would break the table's columns.
				bodyLines(w, "    "+clean(l.Method)+" "+clean(l.Path), l.RequestBody, l.ResponseBody)
			}
		}
		if len(out) == f.Limit {
			fmt.Fprintf(w, "\n(more: --before %d)\n", out[len(out)-1].ID)
		}
	})
}

// parseSince reads an age ("90m", "1h", "7d") as that long before now, or
// a date or RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, atsgate.DateTimeLayout, atsgate.DateLayout} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither an age (1h, 30m, 7d) nor a time (2026-10-01, 2026-10-01T12:00:00Z)", v)
}

// parseStatus reads "404" as an exact status and "4xx" as a class.
func parseStatus(v string) (status, class int, err error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if len(v) == 3 && strings.HasSuffix(v, "xx") && v[0] >= '1' && v[0] <= '5' {
		return 0, int(v[0] - '0'), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, fmt.Errorf("--status must be a status code (404) or a class (4xx)")
	}
	return n, 0, nil
}

// dash is a value for a table cell: "-" when empty, else clean.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return clean(s)
}

// bodyLines prints a log entry's bodies under its row, indented, one line
// of the body per line (each made terminal-safe), ending with a blank line.
// The tab writer passes lines without tabs through without aligning them.
func bodyLines(w io.Writer, request, reqBody, respBody string) {
	fmt.Fprintln(w, request)
	for _, b := range []struct{ mark, body string }{{">", reqBody}, {"<", respBody}} {
		if b.body == "" {
			fmt.Fprintf(w, "    %s -\n", b.mark)
			continue
		}
		for _, line := range strings.Split(strings.TrimRight(b.body, "\n"), "\n") {
			fmt.Fprintf(w, "    %s %s\n", b.mark, clean(line))
		}
	}
	fmt.Fprintln(w)
}
