package atsgate

import "strings"

// NormalizeHost lower-cases a host and strips its port and trailing dot,
// as requests and the country catalogue both name hosts.
func NormalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}
