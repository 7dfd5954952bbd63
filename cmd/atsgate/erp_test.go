package main

import (
	"context"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// TestCLIERPSources: erp source add prints the key and secret once, and
// they work; list shows the source; rotate, disable and enable act on the
// next authentication; misuse is exit-2 material.
func TestCLIERPSources(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": "sqlite://" + t.TempDir() + "/erp.db"}
	cli(t, vars, nil, "migrate")
	cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
		"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	var emp wire.Employer
	cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "King Abdullah Hospital")
	if emp.Code == "" {
		t.Fatalf("employer without a code: %+v", emp)
	}
	var creds wire.ERPCredentials
	cli(t, vars, &creds, "erp", "source", "add", "--employer", jsonID(emp.ID), "--name", "Main_ERP",
		"--trusted-ips", "192.168.1.100,10.0.0.0/8", "--require-signature", "--description", "SAP")
	if !strings.HasPrefix(creds.APIKey, "erp_gh_") || creds.APISecret == "" || !creds.Source.RequireSignature ||
		strings.Join(creds.Source.TrustedIPs, ",") != "192.168.1.100/32,10.0.0.0/8" {
		t.Fatalf("add: %+v", creds)
	}
	var list []wire.ERPSource
	cli(t, vars, &list, "erp", "source", "list", "--employer", jsonID(emp.ID))
	if len(list) != 1 || list[0].Name != "Main_ERP" || list[0].SyncStatus != "IDLE" {
		t.Errorf("list: %+v", list)
	}
	auth := func(key string) string {
		st, err := store.Open(ctx, vars["DATABASE_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		_, err = st.AuthenticateERP(ctx, atsgate.HashAPIKey(key))
		return atsgate.ErrorCode(err)
	}
	if code := auth(creds.APIKey); code != "" {
		t.Fatalf("the new key: %s", code)
	}
	var rotated wire.ERPCredentials
	cli(t, vars, &rotated, "erp", "source", "rotate", "--employer", jsonID(emp.ID), "--name", "Main_ERP")
	if code := auth(creds.APIKey); code != atsgate.EINVALIDAPIKEY {
		t.Errorf("the old key after rotate: %q", code)
	}
	cli(t, vars, nil, "erp", "source", "disable", "--employer", jsonID(emp.ID), "--name", "Main_ERP")
	if code := auth(rotated.APIKey); code != atsgate.ESOURCEINACTIVE {
		t.Errorf("after disable: %q", code)
	}
	cli(t, vars, nil, "erp", "source", "enable", "--employer", jsonID(emp.ID), "--name", "Main_ERP")
	if code := auth(rotated.APIKey); code != "" {
		t.Errorf("after enable: %q", code)
	}
	for _, args := range [][]string{
		{"erp", "source", "add", "--employer", jsonID(emp.ID)},
		{"erp", "source", "add", "--employer", jsonID(emp.ID), "--name", "Main_ERP"},
		{"erp", "source", "add", "--employer", jsonID(emp.ID), "--name", "X", "--trusted-ips", "nope"},
		{"erp", "source", "rotate", "--employer", jsonID(emp.ID), "--name", "Nope"},
		{"erp", "source", "disable", "--employer", jsonID(emp.ID)},
		{"logs", "--action", "SENT"},
	} {
		if msg := cliErr(t, vars, args...); msg == "" {
			t.Errorf("%v: no error", args)
		}
	}
	var logs []wire.LogEntry
	cli(t, vars, &logs, "logs", "--dialect", "erp", "--source", "Main_ERP", "--action", "ERROR")
}
