package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/settings"
	"github.com/atsgate/atsgate/internal/store"
)

// env is what every command gets: configuration, output and a way to open
// the store.
type env struct {
	cfg    settings.Config
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	json   bool
	logger *slog.Logger
	st     *store.Store // opened on first use; run closes it
}

// command is one CLI command.
type command struct {
	usage string
	run   func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error
}

// commands is the whole CLI, by name.
func commands() map[string]command {
	return map[string]command{
		"serve":              {usage: "serve", run: cmdServe},
		"migrate":            {usage: "migrate", run: cmdMigrate},
		"country add":        {usage: "country add --code gh --name Ghana --host gh.localhost [--host …] --currency GHS --timezone Africa/Accra --price 50 [--public-url URL]", run: cmdCountryAdd},
		"country list":       {usage: "country list", run: cmdCountryList},
		"employer add":       {usage: "employer add --country gh --name NAME [--code ACME] [--price 50] [--auto-publish] [--min-monthly-spend 500 --commitment-start 2026-10]", run: cmdEmployerAdd},
		"employer list":      {usage: "employer list [--country gh]", run: cmdEmployerList},
		"key issue":          {usage: "key issue --employer ID", run: cmdKeyIssue},
		"key rotate":         {usage: "key rotate --employer ID", run: cmdKeyRotate},
		"key disable":        {usage: "key disable --employer ID", run: cmdKeyDisable},
		"wallet topup":       {usage: "wallet topup --employer ID --amount 500 [--note TEXT]", run: cmdWalletTopup},
		"wallet adjust":      {usage: "wallet adjust --employer ID --amount -20 --note TEXT", run: cmdWalletAdjust},
		"wallet show":        {usage: "wallet show --employer ID [--from 2026-10-01 --to 2026-11-01]", run: cmdWalletShow},
		"review list":        {usage: "review list [--country gh]", run: cmdReviewList},
		"review approve":     {usage: "review approve (--job ID | --employer ID --external-id X)", run: cmdReviewApprove},
		"review disapprove":  {usage: "review disapprove (--job ID | --employer ID --external-id X) --reason TEXT", run: cmdReviewDisapprove},
		"admin token issue":  {usage: "admin token issue --role operator|reviewer|finance [--name NAME]", run: cmdAdminTokenIssue},
		"admin token list":   {usage: "admin token list", run: cmdAdminTokenList},
		"admin token revoke": {usage: "admin token revoke --id ID", run: cmdAdminTokenRevoke},
		"reconcile":          {usage: "reconcile --month 2026-10 [--employer ID]", run: cmdReconcile},
		"ledger verify":      {usage: "ledger verify [--employer ID]", run: cmdLedgerVerify},
		"logs":               {usage: "logs [--employer ID] [--since 1h] [--until TIME] [--status 4xx|404] [--operation create] [--limit 50] [--before ID] [--bodies]", run: cmdLogs},
	}
}

// run is the program: main only calls it, and tests call it the same way.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) < 2 || args[1] == "help" || args[1] == "-h" || args[1] == "--help" {
		usage(stdout, cmds)
		return nil
	}
	// Command names are one to three words ("serve", "key issue",
	// "admin token issue"): take words until one names a command.
	name, rest := args[1], args[2:]
	for _, ok := cmds[name]; !ok && len(rest) > 0 && strings.Count(name, " ") < 2; _, ok = cmds[name] {
		name, rest = name+" "+rest[0], rest[1:]
	}
	cmd, ok := cmds[name]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", strings.Join(args[1:min(3, len(args))], " "))
	}
	cfg, err := settings.Load(getenv)
	if err != nil {
		return err
	}
	e := &env{cfg: cfg, getenv: getenv, stdout: stdout, stderr: stderr, logger: newLogger(stderr, cfg.LogLevel)}
	fs := flag.NewFlagSet("atsgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&e.json, "json", false, "print one JSON value on stdout")
	fs.Usage = func() { fmt.Fprintf(stderr, "usage: atsgate %s [--json]\n", cmd.usage); fs.PrintDefaults() }
	defer e.close()
	return cmd.run(ctx, e, fs, rest)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: atsgate COMMAND [flags] [--json]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  atsgate %s\n", cmds[n].usage)
	}
	fmt.Fprintln(w, "\nEvery command reads DATABASE_URL (default sqlite://var/atsgate.db).")
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// parse parses flags and refuses stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// open connects to the configured database on first use; run closes it
// when the command returns.
func (e *env) open(ctx context.Context) (*store.Store, error) {
	if e.st == nil {
		st, err := store.Open(ctx, e.cfg.DatabaseURL, store.WithTimeout(e.cfg.DBTimeout))
		if err != nil {
			return nil, err
		}
		e.st = st
	}
	return e.st, nil
}

func (e *env) close() {
	if e.st != nil {
		e.st.Close()
	}
}

// actor names the operator in ledger entries and job events.
func (e *env) actor() string {
	if u := e.getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// print writes v as JSON with --json, else calls text.
func (e *env) print(v any, text func(w io.Writer)) error {
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

// stringsFlag collects a repeated flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// required checks that each named flag was set.
func required(fs *flag.FlagSet, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, n := range names {
		if !set[n] {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// cliError makes domain errors readable on a terminal.
func cliError(err error) error {
	var e *atsgate.Error
	if errors.As(err, &e) && e.Code != atsgate.EINTERNAL {
		msg := e.Message
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			msg += fmt.Sprintf("; --%s %s", strings.ReplaceAll(k, "_", "-"), e.Fields[k])
		}
		return fmt.Errorf("%s (%s)", msg, e.Code)
	}
	return err
}

func parseID(name, v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("--%s must be a positive integer ID", name)
	}
	return id, nil
}
