package intlog

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Bounds of the short fields of an entry. They hold what clients sent, so
// they are capped like the bodies.
const (
	maxShortField = 1024
	maxPath       = 4096
)

// Cut returns s cut to at most n bytes, ending on a UTF-8 character
// boundary. A cut string is a copy, so it does not keep a larger body alive.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	// Back off over at most one split character; garbage is cut anywhere.
	for j := n; j > 0 && j > n-utf8.UTFMax; j-- {
		if utf8.RuneStart(s[j]) {
			i = j
			break
		}
	}
	return strings.Clone(s[:i])
}

// CutBytes is Cut for a body held as bytes: it copies at most n bytes.
func CutBytes(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return Cut(string(b[:n+min(len(b)-n, utf8.UTFMax)]), n)
}

// Redact reduces every API-key-shaped substring of s ("mjm_<cc>_<secret>",
// and the ERP dialect's "erp_<cc>_<secret>") to the key's public prefix, so
// no full key is ever stored or logged, wherever a client put it.
func Redact(s string) string {
	return redactKeys(redactKeys(s, "mjm_"), "erp_")
}

// redactKeys is Redact for keys starting with mark (4 bytes).
func redactKeys(s, mark string) string {
	i := strings.Index(s, mark)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		start := i
		end := keyEnd(s, start)
		if end < 0 {
			b.WriteString(s[:start+4])
			s = s[start+4:]
		} else {
			// "mjm_cc_" and the first secret characters: the key's prefix.
			b.WriteString(s[:start+len("mjm_cc_")+prefixSecret])
			s = s[end:]
		}
		i = strings.Index(s, mark)
	}
	b.WriteString(s)
	return b.String()
}

// prefixSecret is how many secret characters a key's prefix shows
// (atsgate.KeyPrefix).
const prefixSecret = 4

// keyEnd returns where the key-shaped run starting at i ends, or -1 when
// s[i:] is not shaped like a key with more secret than its prefix shows.
func keyEnd(s string, i int) int {
	j := i + 4 // "mjm_" or "erp_"
	if j+3 > len(s) || !lower(s[j]) || !lower(s[j+1]) || s[j+2] != '_' {
		return -1
	}
	j += 3
	k := j
	for k < len(s) && base62(s[k]) {
		k++
	}
	if k-j <= prefixSecret {
		return -1 // nothing secret to hide
	}
	return k
}

func lower(c byte) bool { return c >= 'a' && c <= 'z' }

func base62(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// secretParams are query parameters whose values are credentials.
var secretParams = map[string]bool{
	"api_key": true, "apikey": true, "key": true, "token": true, "access_token": true,
	"secret": true, "password": true,
}

// SafePath is a request's path and query as it may be logged: values of
// credential parameters (?api_key=…) are replaced, and key-shaped strings
// anywhere are reduced to their prefix.
func SafePath(path, rawQuery string) string {
	if rawQuery == "" {
		return Redact(path)
	}
	parts := strings.Split(rawQuery, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && secretParams[strings.ToLower(name)] {
			parts[i] = k + "=REDACTED"
		}
	}
	return Redact(path + "?" + strings.Join(parts, "&"))
}

// clean makes s safe to store and show: keys reduced to prefixes, invalid
// UTF-8 and NUL (which PostgreSQL text refuses) replaced, and at most max
// bytes kept.
func clean(s string, max int) string {
	s = Redact(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return Cut(s, max)
}

// sanitize makes every text field of e safe before it is stored.
func sanitize(e *atsgate.LogEntry) {
	if p := atsgate.KeyPrefix(e.KeyPrefix); p != "" {
		e.KeyPrefix = p // a full key handed in by mistake
	}
	e.KeyPrefix = clean(e.KeyPrefix, maxShortField)
	e.Dialect = clean(e.Dialect, maxShortField)
	e.Operation = clean(e.Operation, maxShortField)
	e.ExternalID = clean(e.ExternalID, maxShortField)
	e.ErrorCode = clean(e.ErrorCode, maxShortField)
	e.ClientIP = clean(e.ClientIP, maxShortField)
	e.RequestID = clean(e.RequestID, maxShortField)
	e.Method = clean(e.Method, maxShortField)
	e.Path = clean(e.Path, maxPath)
	e.RequestBody = clean(e.RequestBody, atsgate.MaxLoggedBody)
	e.ResponseBody = clean(e.ResponseBody, atsgate.MaxLoggedBody)
}
