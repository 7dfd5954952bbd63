package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

func cmdAdminTokenIssue(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	role := fs.String("role", "", "operator, reviewer or finance")
	name := fs.String("name", "", "who holds the token; shown as admin:<name> in ledgers and job events, so no two active tokens share one (default: the role)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "role"); err != nil {
		return err
	}
	if !atsgate.Role(*role).Valid() {
		return &usageError{msg: "--role must be operator, reviewer or finance"}
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	plain, tok, err := st.IssueAdminToken(ctx, *name, atsgate.Role(*role))
	if err != nil {
		return cliError(err)
	}
	return e.print(wire.NewIssuedAdminToken(plain, tok), func(w io.Writer) {
		fmt.Fprintf(w, "admin token #%d for %q (%s), shown once:\n\n    %s\n\n", tok.ID, tok.Name, tok.Role, plain)
		fmt.Fprintf(w, "Sign in at %s/admin/login, or send it as 'Authorization: Bearer <token>' to %s/admin/api/.\n",
			adminBase(e.cfg.AdminAddr), adminBase(e.cfg.AdminAddr))
	})
}

func cmdAdminTokenList(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	toks, err := st.AdminTokens(ctx)
	if err != nil {
		return cliError(err)
	}
	return e.print(wire.NewAdminTokens(toks), func(w io.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tROLE\tPREFIX\tCREATED (UTC)\tREVOKED (UTC)")
		for _, t := range toks {
			revoked := "active"
			if !t.RevokedAt.IsZero() {
				revoked = t.RevokedAt.Format(time.DateTime)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, clean(t.Name), t.Role, t.Prefix, t.CreatedAt.Format(time.DateTime), revoked)
		}
	})
}

func cmdAdminTokenRevoke(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	id := fs.String("id", "", "the token's ID, from admin token list")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "id"); err != nil {
		return err
	}
	n, err := parseID("id", *id)
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	if err := st.RevokeAdminToken(ctx, n); err != nil {
		return cliError(err)
	}
	return e.print(wire.AdminTokenRevoked{ID: n, Revoked: true}, func(w io.Writer) {
		fmt.Fprintf(w, "admin token %d revoked; its sessions have ended\n", n)
	})
}

// adminBase is the back office's address as a browser on the serving
// machine reaches it, from ATSGATE_ADMIN_ADDR: a listener on every
// interface (":8081", "0.0.0.0:8081") is reached at 127.0.0.1. Behind a
// port-forward or proxy the operator's own address applies instead.
func adminBase(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
