package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// adminTokenJSON is the --json form of a newly issued admin token.
type adminTokenJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Prefix    string    `json:"prefix"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
}

func cmdAdminTokenIssue(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	role := fs.String("role", "", "operator, reviewer or finance")
	name := fs.String("name", "", "who holds the token; shown as admin:<name> in ledgers and job events (default: the role)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "role"); err != nil {
		return err
	}
	if !atsgate.Role(*role).Valid() {
		return fmt.Errorf("--role must be operator, reviewer or finance")
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	plain, tok, err := st.IssueAdminToken(ctx, *name, atsgate.Role(*role))
	if err != nil {
		return cliError(err)
	}
	out := adminTokenJSON{ID: tok.ID, Name: tok.Name, Role: string(tok.Role), Prefix: tok.Prefix, Token: plain, CreatedAt: tok.CreatedAt}
	return e.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "admin token #%d for %q (%s), shown once:\n\n    %s\n\n", tok.ID, tok.Name, tok.Role, plain)
		fmt.Fprintln(w, "Sign in at http://<ATSGATE_ADMIN_ADDR>/admin/login, or send it as 'Authorization: Bearer <token>' to /admin/api/.")
	})
}
