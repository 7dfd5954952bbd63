// Package middleware is what every HTTP surface of atsgate shares, as
// pkgsite keeps internal/middleware beside its frontends: the one error
// table and error handler (Classify, ErrorHandler), request IDs and the
// access log (Observe), panic recovery (Recover), trusted-proxy rules and
// host-to-country resolution (Proxies, ResolveCountry), the two rate
// limits (Limits), the body limit (ReadBody), integration-log capture
// (Record), the admin listener's no-cache default (NoStore), and the
// request-scoped values they pass on (CountryOf, PrincipalOf, …).
//
// Only the packages under internal/web import echo: the surfaces (ats,
// backoffice) and this one, assembled by package web's routes.go. Keeping
// echo in one subtree keeps a move to another router local.
package middleware
