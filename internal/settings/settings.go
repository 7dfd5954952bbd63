// Package settings reads atsgate's configuration from the environment.
// Every setting has a default that makes a fresh checkout run; production
// settings are checked, not assumed.
package settings

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/atsgate/atsgate/internal/seal"
)

// Config is the whole runtime configuration.
type Config struct {
	DatabaseURL      string
	RedisURL         string
	Addr             string
	AdminAddr        string
	RateLimit        int
	AuthFailureLimit int
	TrustedProxies   []*net.IPNet
	Env              string // "dev" or "prod"
	// SingleMachine lets prod run on the embedded database and the
	// in-process limiter: one machine, no scale-out.
	SingleMachine   bool
	LogLevel        string
	ShutdownTimeout time.Duration
	// DBTimeout bounds each database operation of the request path, and
	// is the server-side statement timeout on PostgreSQL.
	DBTimeout time.Duration
	// IntegrationLogRetention is how long integration log rows are kept.
	IntegrationLogRetention time.Duration
	// SecretKey seals the secrets atsgate must use again (ERP signing
	// secrets, webhook signing secrets); see package seal. In dev an
	// unset key falls back to seal.DevKey; prod refuses to serve without one.
	SecretKey []byte
	// SecretKeySet says the operator provided SecretKey.
	SecretKeySet bool
	// WebhookAllowPrivate lets webhook endpoints resolve to private,
	// loopback and link-local addresses (tests, single-host setups).
	WebhookAllowPrivate bool
	// DBMaxConns is the size of each process's PostgreSQL connection pool.
	DBMaxConns int
	// DebugAddr, when set, serves Go's pprof profiles there (loopback
	// only: it is refused for any other address).
	DebugAddr string
}

// Setting documents one environment variable.
type Setting struct {
	Name, Default, Meaning string
}

// All lists every setting with its default, in the order the docs show them.
var All = []Setting{
	{"DATABASE_URL", "sqlite://var/atsgate.db", "postgres://… for PostgreSQL (production), sqlite://PATH for the embedded database"},
	{"REDIS_URL", "", "redis://… turns on the shared Redis rate limiter; empty means the in-process limiter"},
	{"ATSGATE_ADDR", ":8080", "public listener: API, country sites, health"},
	{"ATSGATE_ADMIN_ADDR", "127.0.0.1:8081", "back-office listener: admin API, pages, metrics"},
	{"ATSGATE_RATE_LIMIT", "120", "requests per 60 s per API key"},
	{"ATSGATE_AUTH_FAILURE_LIMIT", "60", "failed authentications per 60 s per client IP"},
	{"ATSGATE_TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For/-Host/-Proto are believed"},
	{"ATSGATE_ENV", "dev", "dev or prod; prod refuses the embedded database and the in-process limiter"},
	{"ATSGATE_SINGLE_MACHINE", "false", "in prod, allow the embedded database and in-process limiter anyway"},
	{"ATSGATE_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"ATSGATE_SHUTDOWN_TIMEOUT", "20s", "how long SIGTERM waits for in-flight requests"},
	{"ATSGATE_DB_TIMEOUT", "5s", "the longest a database operation may take before the request gets 503 unavailable"},
	{"ATSGATE_LOG_RETENTION", "720h", "how long integration log rows are kept"},
	{"ATSGATE_SECRET_KEY", "", "32 bytes (base64 or hex) sealing ERP and webhook signing secrets; required in prod"},
	{"ATSGATE_WEBHOOK_ALLOW_PRIVATE", "false", "let webhook endpoints reach private, loopback and link-local addresses"},
	{"ATSGATE_DB_MAX_CONNS", "20", "PostgreSQL connections per process (readers and writers together)"},
	{"ATSGATE_DEBUG_ADDR", "", "a loopback address (127.0.0.1:6060) serving Go's /debug/pprof profiles; empty: none"},
}

// Load reads the configuration through getenv.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, s := range All {
			if s.Name == name {
				return s.Default
			}
		}
		return ""
	}
	var c Config
	var errs []string
	c.DatabaseURL = get("DATABASE_URL")
	c.RedisURL = get("REDIS_URL")
	c.Addr = get("ATSGATE_ADDR")
	c.AdminAddr = get("ATSGATE_ADMIN_ADDR")
	c.Env = get("ATSGATE_ENV")
	c.LogLevel = strings.ToLower(get("ATSGATE_LOG_LEVEL"))
	positive := func(name string) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < 1 {
			errs = append(errs, fmt.Sprintf("%s must be a positive integer", name))
		}
		return n
	}
	duration := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s must be a positive duration such as 20s", name))
		}
		return d
	}
	c.RateLimit = positive("ATSGATE_RATE_LIMIT")
	c.AuthFailureLimit = positive("ATSGATE_AUTH_FAILURE_LIMIT")
	c.ShutdownTimeout = duration("ATSGATE_SHUTDOWN_TIMEOUT")
	c.DBTimeout = duration("ATSGATE_DB_TIMEOUT")
	c.IntegrationLogRetention = duration("ATSGATE_LOG_RETENTION")
	single, err := strconv.ParseBool(get("ATSGATE_SINGLE_MACHINE"))
	if err != nil {
		errs = append(errs, "ATSGATE_SINGLE_MACHINE must be true or false")
	}
	c.SingleMachine = single
	c.DBMaxConns = positive("ATSGATE_DB_MAX_CONNS")
	c.DebugAddr = get("ATSGATE_DEBUG_ADDR")
	if c.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.DebugAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			errs = append(errs, "ATSGATE_DEBUG_ADDR must be a loopback address such as 127.0.0.1:6060")
		}
	}
	allowPrivate, err := strconv.ParseBool(get("ATSGATE_WEBHOOK_ALLOW_PRIVATE"))
	if err != nil {
		errs = append(errs, "ATSGATE_WEBHOOK_ALLOW_PRIVATE must be true or false")
	}
	c.WebhookAllowPrivate = allowPrivate
	if k := get("ATSGATE_SECRET_KEY"); k != "" {
		key, err := seal.ParseKey(k)
		if err != nil {
			errs = append(errs, "ATSGATE_SECRET_KEY "+err.Error())
		}
		c.SecretKey, c.SecretKeySet = key, err == nil
	} else {
		c.SecretKey = seal.DevKey()
	}
	for _, cidr := range strings.Split(get("ATSGATE_TRUSTED_PROXIES"), ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		if !strings.Contains(cidr, "/") {
			if strings.Contains(cidr, ":") {
				cidr += "/128"
			} else {
				cidr += "/32"
			}
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ATSGATE_TRUSTED_PROXIES: %q is not a CIDR", cidr))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if c.Env != "dev" && c.Env != "prod" {
		errs = append(errs, "ATSGATE_ENV must be dev or prod")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, "ATSGATE_LOG_LEVEL must be debug, info, warn or error")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// CheckServe applies the production rules to a server: prod refuses the
// embedded database and the in-process limiter (each process would count
// alone) unless SingleMachine says this is a one-machine deployment. Other
// commands, run by an operator against the same settings, need neither.
func (c Config) CheckServe() error {
	if c.Env != "prod" {
		return nil
	}
	var errs []string
	if !c.SecretKeySet {
		errs = append(errs, "ATSGATE_ENV=prod needs ATSGATE_SECRET_KEY (32 random bytes, e.g. `openssl rand -base64 32`) to seal signing secrets")
	}
	if c.SingleMachine {
		// one machine: the embedded database and in-process limiter are allowed
	} else if c.Embedded() {
		errs = append(errs, "ATSGATE_ENV=prod refuses the embedded database: set DATABASE_URL=postgres://… (or ATSGATE_SINGLE_MACHINE=true)")
	}
	if c.RedisURL == "" && !c.SingleMachine {
		errs = append(errs, "ATSGATE_ENV=prod refuses the in-process rate limiter: set REDIS_URL=redis://… (or ATSGATE_SINGLE_MACHINE=true)")
	}
	if len(errs) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Embedded reports whether the database is the embedded SQLite one.
func (c Config) Embedded() bool { return strings.HasPrefix(c.DatabaseURL, "sqlite://") }
