package middleware

import "github.com/labstack/echo/v4"

// NoStore tells every cache, the browser's and any proxy's, to keep no copy
// of a response, unless its handler says otherwise (the back office's
// stylesheet). The admin listener answers with balances, ledgers, people's
// names and, once, each newly issued API key: a stored copy would outlive
// the session and the revocation of the token that read it. It is set
// before the handler runs, so refusals and errors carry it too.
func NoStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
