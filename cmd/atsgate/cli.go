package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/redis/go-redis/v9"
	"io"
	"log/slog"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/seal"
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
	// actorFlag is --actor; see actor.
	actorFlag string
	logger    *slog.Logger
	st        *store.Store  // opened on first use; run closes it
	redis     *redis.Client // with REDIS_URL, opened with st; announces key changes
}

// command is one CLI command.
type command struct {
	usage   string // the synopsis after "atsgate"
	purpose string // one line: what it is for
	example string // one runnable line
	run     func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error
}

// commands is the whole CLI, by name.
func commands() map[string]command {
	return map[string]command{
		"serve": {usage: "serve", run: cmdServe,
			purpose: "run the HTTP server: the public API and sites, and the back office",
			example: "DATABASE_URL=postgres://atsgate@db/atsgate REDIS_URL=redis://cache:6379 atsgate serve"},
		"migrate": {usage: "migrate", run: cmdMigrate,
			purpose: "apply the database migrations that have not run yet",
			example: "atsgate migrate"},
		"country add": {usage: "country add --code gh --name Ghana --host gh.localhost [--host …] --currency GHS --timezone Africa/Accra --price 50 [--public-url URL]", run: cmdCountryAdd,
			purpose: "add a country site with its host names, currency, time zone and job price",
			example: "atsgate country add --code gh --name Ghana --host gh.example.com --currency GHS --timezone Africa/Accra --price 50 --public-url https://gh.example.com"},
		"country list": {usage: "country list", run: cmdCountryList,
			purpose: "list the country sites",
			example: "atsgate country list"},
		"employer add": {usage: "employer add --country gh --name NAME [--code ACME] [--price 50] [--auto-publish] [--min-monthly-spend 500 --commitment-start 2026-10] [--allow-same-name]", run: cmdEmployerAdd,
			purpose: "add an employer, with an empty wallet, to a country",
			example: "atsgate employer add --country gh --name \"Acme Ltd\" --auto-publish"},
		"employer list": {usage: "employer list [--country gh]", run: cmdEmployerList,
			purpose: "list employers with their prices and balances",
			example: "atsgate employer list --country gh"},
		"key issue": {usage: "key issue --employer ID", run: cmdKeyIssue,
			purpose: "issue an employer's API key (printed once; replaces any active key)",
			example: "atsgate key issue --employer 3"},
		"key rotate": {usage: "key rotate --employer ID", run: cmdKeyRotate,
			purpose: "replace an employer's API key; the old one stops working at once",
			example: "atsgate key rotate --employer 3"},
		"key disable": {usage: "key disable --employer ID", run: cmdKeyDisable,
			purpose: "disable an employer's API key without issuing another",
			example: "atsgate key disable --employer 3"},
		"wallet topup": {usage: "wallet topup --employer ID --amount 500 [--note TEXT] [--reference R]", run: cmdWalletTopup,
			purpose: "credit money received from an employer to its wallet",
			example: "atsgate wallet topup --employer 3 --amount 500 --note \"bank transfer 123\""},
		"wallet adjust": {usage: "wallet adjust --employer ID --amount -20 --note TEXT [--reference R]", run: cmdWalletAdjust,
			purpose: "post a signed correction to a wallet (may take it below zero)",
			example: "atsgate wallet adjust --employer 3 --amount -20.50 --note \"duplicate top-up 2026-11-02\""},
		"wallet show": {usage: "wallet show --employer ID [--from 2026-10-01 --to 2026-11-01]", run: cmdWalletShow,
			purpose: "print an employer's statement: opening balance, entries, closing balance",
			example: "atsgate wallet show --employer 3 --from 2026-10-01 --to 2026-11-01"},
		"review list": {usage: "review list [--country gh]", run: cmdReviewList,
			purpose: "list the jobs and edits waiting for review, oldest first",
			example: "atsgate review list --country gh"},
		"review approve": {usage: "review approve (--job ID | --employer ID --external-id X)", run: cmdReviewApprove,
			purpose: "approve a pending job (publishing it) or a published job's pending edit",
			example: "atsgate review approve --job 17"},
		"review disapprove": {usage: "review disapprove (--job ID | --employer ID --external-id X) --reason TEXT", run: cmdReviewDisapprove,
			purpose: "disapprove a pending job (refunding it) or discard a pending edit",
			example: "atsgate review disapprove --job 17 --reason \"salary missing\""},
		"admin token issue": {usage: "admin token issue --role operator|reviewer|finance [--name NAME]", run: cmdAdminTokenIssue,
			purpose: "issue a back-office token (printed once) and say where to sign in",
			example: "atsgate admin token issue --role reviewer --name ama"},
		"admin token list": {usage: "admin token list", run: cmdAdminTokenList,
			purpose: "list back-office tokens (never their secrets)",
			example: "atsgate admin token list"},
		"admin token revoke": {usage: "admin token revoke --id ID", run: cmdAdminTokenRevoke,
			purpose: "revoke a back-office token and end its sessions",
			example: "atsgate admin token revoke --id 2"},
		"reconcile": {usage: "reconcile --month 2026-10 [--employer ID] [--report [--country gh]]", run: cmdReconcile,
			purpose: "post the minimum-monthly-spend shortfalls of a finished month (safe to repeat); --report only reads them",
			example: "atsgate reconcile --month 2026-10"},
		"ledger verify": {usage: "ledger verify [--employer ID]", run: cmdLedgerVerify,
			purpose: "check every wallet against its ledger; exits 1 on a breach",
			example: "atsgate ledger verify"},
		"webhook set": {usage: "webhook set --employer ID --url URL [--events job.published,…] [--low-balance 100] [--rotate-secret]", run: cmdWebhookSet,
			purpose: "set an employer's webhook endpoint and events (the signing secret is printed once)",
			example: "atsgate webhook set --employer 3 --url https://ats.example.com/atsgate --events job.published,job.closed"},
		"webhook show": {usage: "webhook show --employer ID", run: cmdWebhookShow,
			purpose: "print an employer's webhook endpoint (never its secret)",
			example: "atsgate webhook show --employer 3"},
		"webhook disable": {usage: "webhook disable --employer ID", run: cmdWebhookDisable,
			purpose: "stop sending an employer's webhook events",
			example: "atsgate webhook disable --employer 3"},
		"webhook deliveries": {usage: "webhook deliveries [--employer ID] [--status pending|delivered|failed] [--limit 50]", run: cmdWebhookDeliveries,
			purpose: "list webhook deliveries, newest first",
			example: "atsgate webhook deliveries --employer 3 --status failed"},
		"webhook resend": {usage: "webhook resend --delivery ID", run: cmdWebhookResend,
			purpose: "send a delivered or failed webhook event again (same event ID)",
			example: "atsgate webhook resend --delivery 42"},
		"erp source add": {usage: "erp source add --employer ID --name Main_ERP [--description TEXT] [--trusted-ips 10.0.0.0/8,127.0.0.1] [--integration-version 1.0] [--require-signature]", run: cmdERPSourceAdd,
			purpose: "add an employer's ERP source (its api_key and api_secret are printed once)",
			example: "atsgate erp source add --employer 3 --name Main_ERP --trusted-ips 192.168.1.100,10.0.0.0/8"},
		"erp source list": {usage: "erp source list [--employer ID]", run: cmdERPSourceList,
			purpose: "list ERP sources with their sync status",
			example: "atsgate erp source list --employer 3"},
		"erp source rotate": {usage: "erp source rotate --employer ID --name Main_ERP", run: cmdERPSourceRotate,
			purpose: "replace a source's key and secret (printed once); the old ones stop at once",
			example: "atsgate erp source rotate --employer 3 --name Main_ERP"},
		"erp source disable": {usage: "erp source disable --employer ID --name Main_ERP", run: cmdERPSourceDisable,
			purpose: "refuse a source's key from the next request on",
			example: "atsgate erp source disable --employer 3 --name Main_ERP"},
		"erp source enable": {usage: "erp source enable --employer ID --name Main_ERP", run: cmdERPSourceEnable,
			purpose: "accept a disabled source's key again",
			example: "atsgate erp source enable --employer 3 --name Main_ERP"},
		"logs": {usage: "logs [--employer ID] [--since 1h] [--until TIME] [--status 4xx|404] [--operation create] [--dialect erp] [--source Main_ERP] [--action ERROR] [--limit 50] [--before ID] [--bodies]", run: cmdLogs,
			purpose: "read the integration log, newest first",
			example: "atsgate logs --employer 3 --status 4xx --since 24h"},
	}
}

// usageError is a misuse of the CLI (an unknown command or flag, a missing
// or malformed argument): main exits 2 for it, 1 for any other failure.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// misuse is a usageError that points at the help of the command named.
func misuse(name, format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...) + "; see 'atsgate " + name + " --help'"}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// run is the program: main only calls it, and tests call it the same way.
// Help asked for goes to stdout with a nil error; misuse returns a
// *usageError; everything else a command returns.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) < 2 {
		usage(stderr, cmds)
		return &usageError{msg: "no command given"}
	}
	if isHelp(args[1]) {
		if len(args) > 2 { // "atsgate help wallet topup"
			return run(ctx, append(append([]string{args[0]}, args[2:]...), "--help"), getenv, stdout, stderr)
		}
		usage(stdout, cmds)
		return nil
	}
	// Command names are one to three words ("serve", "key issue",
	// "admin token issue"): take words until one names a command.
	name, rest := args[1], args[2:]
	for _, ok := cmds[name]; !ok && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && strings.Count(name, " ") < 2; _, ok = cmds[name] {
		name, rest = name+" "+rest[0], rest[1:]
	}
	cmd, ok := cmds[name]
	if !ok {
		if group := groupOf(cmds, name); len(group) > 0 {
			if len(rest) > 0 && isHelp(rest[0]) {
				groupUsage(stdout, name, group, cmds)
				return nil
			}
			groupUsage(stderr, name, group, cmds)
			if len(rest) == 0 {
				return &usageError{msg: "'" + name + "' needs a command"}
			}
		}
		return &usageError{msg: fmt.Sprintf("unknown command %q; see 'atsgate help'", strings.TrimSpace(strings.Join(args[1:min(4, len(args))], " ")))}
	}
	cfg, err := settings.Load(getenv)
	if err != nil {
		return err
	}
	e := &env{cfg: cfg, getenv: getenv, stdout: stdout, stderr: stderr, logger: newLogger(stderr, cfg.LogLevel)}
	fs := flag.NewFlagSet("atsgate "+name, flag.ContinueOnError)
	// The flag package would print its own error and the defaults on every
	// mistake; run prints one message instead, and help on request only.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&e.json, "json", false, "print one JSON value on stdout instead of text")
	fs.StringVar(&e.actorFlag, "actor", "", "who is acting, for the ledger and job history (default: $ATSGATE_ACTOR, else the OS user)")
	defer e.close()
	err = cmd.run(ctx, e, fs, rest)
	var ue *usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		commandUsage(stdout, name, cmd, fs)
		return nil
	case errors.As(err, &ue):
		return misuse(name, "%s", ue.msg)
	}
	return err
}

// groupOf lists the commands under a group name ("wallet", "admin token").
func groupOf(cmds map[string]command, group string) []string {
	var names []string
	for n := range cmds {
		if strings.HasPrefix(n, group+" ") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "atsgate: the inbound job API server and its operator CLI")
	fmt.Fprintln(w, "\nusage: atsgate COMMAND [flags]\n\ncommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n, cmds[n].purpose)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nEvery command takes --json (machine-readable output) and --help, and reads\n"+
		"DATABASE_URL (default sqlite://var/atsgate.db). Run 'atsgate COMMAND --help' for its flags.")
}

func groupUsage(w io.Writer, group string, names []string, cmds map[string]command) {
	fmt.Fprintf(w, "usage: atsgate %s COMMAND [flags]\n\ncommands:\n", group)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n, cmds[n].purpose)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'atsgate %s COMMAND --help' for a command's flags.\n", group)
}

// commandUsage is a command's help: purpose, synopsis, every flag with its
// meaning and default, and an example.
func commandUsage(w io.Writer, name string, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "atsgate %s: %s\n\nusage: atsgate %s [--json]\n\nflags:\n", name, cmd.purpose, cmd.usage)
	fs.VisitAll(func(f *flag.Flag) {
		kind, meaning := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		fmt.Fprintf(w, "%s\n      %s", line, meaning)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintf(w, "\nexample:\n  %s\n", cmd.example)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// parse parses flags and refuses stray arguments. Help asked for comes
// back as flag.ErrHelp, any mistake as a *usageError.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return err
	} else if err != nil {
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// open connects to the configured database on first use; run closes it
// when the command returns.
func (e *env) open(ctx context.Context) (*store.Store, error) {
	if e.st == nil {
		box, err := seal.New(e.cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("ATSGATE_SECRET_KEY: %w", err)
		}
		st, err := store.Open(ctx, e.cfg.DatabaseURL, store.WithTimeout(e.cfg.DBTimeout), store.WithSealer(box))
		if err != nil {
			return nil, err
		}
		e.st = st
		if e.cfg.RedisURL != "" {
			// A key rotated or disabled here is refused by every serving
			// instance from its next request: see announceAuthChanges.
			opt, err := redis.ParseURL(e.cfg.RedisURL)
			if err != nil {
				return nil, err
			}
			e.redis = redis.NewClient(opt)
			announceAuthChanges(st, e.redis, e.logger)
		}
	}
	return e.st, nil
}

func (e *env) close() {
	if e.st != nil {
		e.st.Close()
	}
	if e.redis != nil {
		e.redis.Close()
	}
}

// actor names the operator in ledger entries and job events: --actor,
// else ATSGATE_ACTOR, else the OS user ($USER, which containers often
// leave unset, then the account of the process's uid), as "cli:NAME".
// Money entries must always name who posted them.
func (e *env) actor() string {
	name := strings.TrimSpace(e.actorFlag)
	if name == "" {
		name = strings.TrimSpace(e.getenv("ATSGATE_ACTOR"))
	}
	if name == "" {
		name = strings.TrimSpace(e.getenv("USER"))
	}
	if name == "" {
		if u, err := user.Current(); err == nil && u.Username != "" {
			name = u.Username
		} else {
			name = "uid:" + strconv.Itoa(os.Getuid())
		}
	}
	return "cli:" + name
}

// print writes v as JSON with --json, else calls text with the writer of
// human output (see text).
func (e *env) print(v any, text func(w io.Writer)) error {
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w, flush := e.text()
	text(w)
	return flush()
}

// text returns the writer of human output, which aligns tab-separated
// columns and lets no control character but tab and newline through (see
// term.go), and the function that writes out what it holds. Escaping comes
// before alignment, so columns are measured as they are shown. flush may be
// called more than once: a long listing flushes as it goes.
func (e *env) text() (w io.Writer, flush func() error) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	sw := &safeWriter{w: tw}
	return sw, func() error {
		if err := sw.Close(); err != nil {
			return err
		}
		return tw.Flush()
	}
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
		return &usageError{msg: "missing " + strings.Join(missing, ", ")}
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

// optionalID is parseID for a flag that may be left out: 0 when empty.
func optionalID(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	return parseID(name, v)
}

func parseID(name, v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("--%s must be a positive integer ID", name)
	}
	return id, nil
}
