// Package backoffice is the back office of SPEC section 5, served on the
// admin listener only: the JSON admin API under /admin/api/ (Bearer admin
// tokens) and the server-rendered pages under /admin/ (a session cookie
// from signing in with a token, and a CSRF token on every form). Every
// route checks one permission of the signed-in role (Require); the role
// table is atsgate.Role.Can. Responses use package wire's shapes, the
// same the CLI prints; descriptions pass one bluemonday policy.
//
// Like every package under internal/web, and only those, it imports echo;
// its routes are in package web's routes.go.
package backoffice
