package erp

import (
	"context"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// ctxERPPrincipal holds the request's *atsgate.ERPPrincipal.
const ctxERPPrincipal = "atsgate.erp_principal"

// principalOf is the authenticated source; only behind Authenticate.
func principalOf(c echo.Context) *atsgate.ERPPrincipal {
	return c.Get(ctxERPPrincipal).(*atsgate.ERPPrincipal)
}

// Authenticate accepts a request whose key (X-API-Key, or ?api_key=)
// belongs to an active source of an active employer of the host's
// country, called from one of the source's trusted addresses (the client
// address after the trusted-proxy rules, so a forged X-Forwarded-For from
// an untrusted peer changes nothing). Signatures are checked by the
// handlers, which hold the raw body.
func (h *Handler) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := h.principal(c)
		if err != nil {
			return err
		}
		c.Set(ctxERPPrincipal, p)
		mw.SetPrincipal(c, &p.Principal)
		mw.SetSource(c, p.Source.Name)
		if !p.Source.AllowsIP(c.RealIP()) {
			return atsgate.Errorf(atsgate.EIPNOTALLOWED, "requests from %s are not allowed for source %s; add the address to its trusted IPs",
				c.RealIP(), p.Source.Name)
		}
		return next(c)
	}
}

func (h *Handler) principal(c echo.Context) (*atsgate.ERPPrincipal, error) {
	invalid := func(msg string) error { return atsgate.Errorf(atsgate.EINVALIDAPIKEY, "%s", msg) }
	key := strings.TrimSpace(c.Request().Header.Get("X-API-Key"))
	if key == "" {
		key = strings.TrimSpace(c.QueryParam("api_key"))
	}
	if key == "" {
		return nil, invalid("the API key is missing; send it as X-API-Key or ?api_key=")
	}
	prefix := atsgate.ERPKeyPrefix(key)
	if prefix == "" {
		return nil, invalid("the API key is not valid")
	}
	country := mw.CountryOf(c)
	if cc := strings.TrimPrefix(prefix, "erp_")[:2]; cc != country.Code {
		return nil, invalid("this API key is for another country's site; send it to that site's host")
	}
	p, err := h.Sources.AuthenticateERP(c.Request().Context(), atsgate.HashAPIKey(key))
	if err != nil {
		return nil, err
	}
	if p.Country.ID != country.ID {
		return nil, invalid("this API key is for another country's site; send it to that site's host")
	}
	return p, nil
}

// Track records each authenticated request's outcome in its source's
// sync status (ACTIVE after a success, ERROR with the code after a
// failure). An outage of the database is not the source's failure, and
// there would be nowhere to write it.
func (h *Handler) Track(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		p, ok := c.Get(ctxERPPrincipal).(*atsgate.ERPPrincipal)
		if !ok {
			return err
		}
		code := ""
		if err != nil {
			e, _ := mw.Classify(err)
			if e.Code == atsgate.EUNAVAILABLE {
				return err
			}
			code = wireCode(e.Code)
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), time.Second)
		defer cancel()
		_ = h.Sources.NoteERPSync(ctx, p.Source.ID, code, h.Now())
		return err
	}
}

// checkSignature enforces the source's signature rule on the raw body.
func (h *Handler) checkSignature(c echo.Context, body []byte) error {
	p := principalOf(c)
	if !p.Source.RequireSignature {
		return nil
	}
	r := c.Request()
	return atsgate.CheckERPSignature(p.Secret, r.Header.Get("X-Timestamp"), r.Header.Get("X-Signature"), body, h.Now())
}
