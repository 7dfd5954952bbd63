package atsgate

import "strings"

// NormalizeHost lower-cases a host, strips its port and any trailing dot,
// and trims space. Request hosts and stored country hosts are both put in
// this form, so "GH.Localhost:8080" and "gh.localhost." name the same site.
// An IPv6 literal keeps its brackets: the last colon of "[::1]" is part of
// the address, not a port separator.
func NormalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}
