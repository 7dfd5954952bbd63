package settings

import (
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "sqlite://var/atsgate.db" || c.Addr != ":8080" || c.AdminAddr != "127.0.0.1:8081" ||
		c.RateLimit != 120 || c.AuthFailureLimit != 60 || c.Env != "dev" || len(c.TrustedProxies) != 0 || !c.Embedded() ||
		c.DBTimeout != 5*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.CheckServe(); err != nil {
		t.Fatalf("dev defaults refused for serve: %v", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"ATSGATE_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.168.1.7/32 ::1/128" {
		t.Fatalf("trusted proxies: %v", got)
	}
}

func TestInvalidSettings(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"rate limit":  {"ATSGATE_RATE_LIMIT": "0"},
		"auth limit":  {"ATSGATE_AUTH_FAILURE_LIMIT": "many"},
		"proxy":       {"ATSGATE_TRUSTED_PROXIES": "not-a-cidr"},
		"env":         {"ATSGATE_ENV": "staging"},
		"log level":   {"ATSGATE_LOG_LEVEL": "verbose"},
		"timeout":     {"ATSGATE_SHUTDOWN_TIMEOUT": "-1s"},
		"single bool": {"ATSGATE_SINGLE_MACHINE": "perhaps"},
		"retention":   {"ATSGATE_LOG_RETENTION": "forever"},
		"db timeout":  {"ATSGATE_DB_TIMEOUT": "0s"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(env(vars)); err == nil {
				t.Fatalf("%v accepted", vars)
			}
		})
	}
}

// TestProdRules: prod servers refuse the embedded database and the
// in-process limiter, unless told this is one machine; operator commands
// load the same settings without those rules.
func TestProdRules(t *testing.T) {
	for _, tt := range []struct {
		name    string
		vars    map[string]string
		wantErr string
	}{
		{"embedded and no redis", map[string]string{"ATSGATE_ENV": "prod"}, "embedded database"},
		{"no redis", map[string]string{"ATSGATE_ENV": "prod", "DATABASE_URL": "postgres://db/atsgate"}, "in-process rate limiter"},
		{"production", map[string]string{"ATSGATE_ENV": "prod", "DATABASE_URL": "postgres://db/atsgate", "REDIS_URL": "redis://r:6379/0", "ATSGATE_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, ""},
		{"no secret key", map[string]string{"ATSGATE_ENV": "prod", "DATABASE_URL": "postgres://db/atsgate", "REDIS_URL": "redis://r:6379/0"}, "ATSGATE_SECRET_KEY"},
		{"single machine", map[string]string{"ATSGATE_ENV": "prod", "ATSGATE_SINGLE_MACHINE": "true", "ATSGATE_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, ""},
		{"single machine without a secret key", map[string]string{"ATSGATE_ENV": "prod", "ATSGATE_SINGLE_MACHINE": "true"}, "ATSGATE_SECRET_KEY"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.vars))
			if err != nil {
				t.Fatalf("Load (what every command does) refused: %v", err)
			}
			err = c.CheckServe()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("CheckServe: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("CheckServe = %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
}
