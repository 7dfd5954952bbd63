package middleware

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Context keys: what one middleware learns about a request and a later
// one, a handler or the logs need.
const (
	ctxCountry     = "atsgate.country"
	ctxPrincipal   = "atsgate.principal"
	ctxRequestID   = "atsgate.request_id"
	ctxStart       = "atsgate.start"
	ctxRequestBody = "atsgate.request_body"
	ctxExternalID  = "atsgate.external_id"
	ctxOperation   = "atsgate.operation"
	ctxErrorCode   = "atsgate.error_code"
	ctxErrorWriter = "atsgate.error_writer"
	ctxSource      = "atsgate.source"
)

// CountryOf is the country ResolveCountry found for the request's host;
// only for handlers behind ResolveCountry.
func CountryOf(c echo.Context) *atsgate.Country { return c.Get(ctxCountry).(*atsgate.Country) }

// PrincipalOf is the authenticated caller; only for handlers behind a
// dialect's authentication.
func PrincipalOf(c echo.Context) *atsgate.Principal { return c.Get(ctxPrincipal).(*atsgate.Principal) }

// SetPrincipal records the caller a dialect's authentication accepted.
func SetPrincipal(c echo.Context, p *atsgate.Principal) { c.Set(ctxPrincipal, p) }

// OptCountry is CountryOf for code that runs whether or not the request
// got that far: nil before the host was resolved.
func OptCountry(c echo.Context) *atsgate.Country {
	v, _ := c.Get(ctxCountry).(*atsgate.Country)
	return v
}

// OptPrincipal is PrincipalOf for code that runs whether or not the
// request was authenticated: nil when it was not.
func OptPrincipal(c echo.Context) *atsgate.Principal {
	v, _ := c.Get(ctxPrincipal).(*atsgate.Principal)
	return v
}

// RequestIDOf is the request's ID ("" outside Observe).
func RequestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// SetExternalID tells the integration log which job a request is about,
// once a handler has decoded it.
func SetExternalID(c echo.Context, id string) {
	if id != "" {
		c.Set(ctxExternalID, id)
	}
}

// SetSource tells the integration log which ERP source a request came
// from, once its key was accepted.
func SetSource(c echo.Context, name string) { c.Set(ctxSource, name) }

// StartOf is when Observe began the request (now outside Observe).
func StartOf(c echo.Context) time.Time {
	if t, ok := c.Get(ctxStart).(time.Time); ok {
		return t
	}
	return time.Now()
}
