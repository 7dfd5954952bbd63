package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

// cmdERPSourceAdd adds an ERP source and prints its key and secret once.
func cmdERPSourceAdd(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := employerFlag(fs)
	name := fs.String("name", "", "the source's name, what the ERP sends as source_name (e.g. Main_ERP)")
	desc := fs.String("description", "", "what the integration is")
	ips := fs.String("trusted-ips", "", "comma-separated addresses or CIDRs allowed to call (empty: any)")
	version := fs.String("integration-version", "1.0", "the ERP integration's version")
	sig := fs.Bool("require-signature", false, "refuse requests without a valid X-Signature")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := parseID("employer", *emp)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return misuse("erp source add", "--name is required")
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	src, key, secret, err := st.CreateERPSource(ctx, atsgate.ERPSourceInput{EmployerID: id, Name: *name, Description: *desc,
		TrustedIPs: *ips, IntegrationVersion: *version, RequireSignature: *sig})
	if err != nil {
		return cliError(err)
	}
	return printCredentials(e, wire.ERPCredentials{Source: wire.NewERPSource(src), APIKey: key, APISecret: secret}, "added")
}

// printCredentials prints a source's new key and secret, once.
func printCredentials(e *env, c wire.ERPCredentials, what string) error {
	return e.print(c, func(w io.Writer) {
		fmt.Fprintf(w, "ERP source %s of employer %d %s (shown once; keep them in the ERP's secret store):\n", clean(c.Source.Name), c.Source.EmployerID, what)
		fmt.Fprintf(w, "api_key\t%s\n", c.APIKey)
		fmt.Fprintf(w, "api_secret\t%s\n", c.APISecret)
		fmt.Fprintf(w, "source_name\t%s\n", clean(c.Source.Name))
	})
}

// cmdERPSourceList lists ERP sources.
func cmdERPSourceList(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := employerFlag(fs)
	st, id, err := employerStore(ctx, e, fs, args, emp, optionalID)
	if err != nil {
		return err
	}
	list, err := st.ERPSources(ctx, id)
	if err != nil {
		return cliError(err)
	}
	out := wire.NewERPSources(list)
	return e.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tEMPLOYER\tNAME\tKEY\tACTIVE\tSIGNED\tTRUSTED IPS\tSYNC\tLAST SUCCESS\tLAST FAILURE")
		for _, s := range out {
			ips := strings.Join(s.TrustedIPs, ",")
			if ips == "" {
				ips = "any"
			}
			failure := dash(s.LastFailureAt)
			if s.LastFailureCode != "" {
				failure += " " + clean(s.LastFailureCode)
			}
			fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%v\t%v\t%s\t%s\t%s\t%s\n", s.ID, s.EmployerID, clean(s.Name), s.KeyPrefix, s.Active,
				s.RequireSignature, clean(ips), s.SyncStatus, dash(s.LastSuccessAt), failure)
		}
	})
}

// sourceFlags reads --employer and --name and finds that source.
func sourceFlags(ctx context.Context, e *env, fs *flag.FlagSet, args []string, cmd string) (*atsgate.ERPSource, error) {
	emp := employerFlag(fs)
	name := fs.String("name", "", "the source's name")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	id, err := parseID("employer", *emp)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(*name) == "" {
		return nil, misuse(cmd, "--name is required")
	}
	st, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	src, err := st.ERPSourceByName(ctx, id, strings.TrimSpace(*name))
	if err != nil {
		return nil, cliError(err)
	}
	return src, nil
}

// cmdERPSourceRotate gives a source a new key and secret, printed once.
func cmdERPSourceRotate(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	src, err := sourceFlags(ctx, e, fs, args, "erp source rotate")
	if err != nil {
		return err
	}
	st, _ := e.open(ctx)
	s, key, secret, err := st.RotateERPSource(ctx, src.ID)
	if err != nil {
		return cliError(err)
	}
	return printCredentials(e, wire.ERPCredentials{Source: wire.NewERPSource(s), APIKey: key, APISecret: secret},
		"rotated; the old key and secret no longer work")
}

func cmdERPSourceDisable(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return setSourceActive(ctx, e, fs, args, false)
}

func cmdERPSourceEnable(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return setSourceActive(ctx, e, fs, args, true)
}

func setSourceActive(ctx context.Context, e *env, fs *flag.FlagSet, args []string, active bool) error {
	cmd := "erp source disable"
	if active {
		cmd = "erp source enable"
	}
	src, err := sourceFlags(ctx, e, fs, args, cmd)
	if err != nil {
		return err
	}
	st, _ := e.open(ctx)
	s, err := st.SetERPSourceActive(ctx, src.ID, active)
	if err != nil {
		return cliError(err)
	}
	out := wire.NewERPSource(s)
	return e.print(out, func(w io.Writer) {
		state := "disabled: its key is refused from the next request"
		if active {
			state = "enabled"
		}
		fmt.Fprintf(w, "ERP source %s of employer %d is %s\n", clean(out.Name), out.EmployerID, state)
	})
}
