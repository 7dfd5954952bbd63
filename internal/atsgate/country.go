package atsgate

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

var (
	countryCodeRE = regexp.MustCompile(`^[a-z]{2}$`)
	currencyRE    = regexp.MustCompile(`^[A-Z]{3}$`)
	hostRE        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
)

// IsCountryCode reports whether s is a country code as the board writes
// them: two lower-case ASCII letters, such as "gh". Lookups use it to tell
// a code from a numeric ID.
func IsCountryCode(s string) bool { return countryCodeRE.MatchString(s) }

// Validate normalises a country an operator is adding, in place: the code
// lower-cased, the currency upper-cased, the name trimmed, every host put
// through NormalizeHost, and the public URL stripped of its trailing slash
// or, when empty, made https on the first host. It returns an EINVALID
// error listing every bad field, keyed by the CLI's and the admin API's
// names, or nil.
func (c *Country) Validate() error {
	fields := map[string]string{}
	c.Code = strings.ToLower(strings.TrimSpace(c.Code))
	c.Currency = strings.ToUpper(strings.TrimSpace(c.Currency))
	c.Name = strings.TrimSpace(c.Name)
	if !IsCountryCode(c.Code) {
		fields["code"] = "must be two letters"
	}
	if c.Name == "" {
		fields["name"] = "is required"
	}
	if !currencyRE.MatchString(c.Currency) {
		fields["currency"] = "must be a three-letter ISO 4217 code"
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		fields["timezone"] = "must be an IANA time zone such as Africa/Accra"
	}
	if msg := CheckPrice(c.Price); msg != "" {
		fields["price"] = msg
	}
	if len(c.Hosts) == 0 {
		fields["host"] = "at least one host is required"
	}
	for i, h := range c.Hosts {
		c.Hosts[i] = NormalizeHost(h)
		if !hostRE.MatchString(c.Hosts[i]) {
			fields["host"] = fmt.Sprintf("%q is not a host name", h)
		}
	}
	c.PublicURL = strings.TrimRight(strings.TrimSpace(c.PublicURL), "/")
	if c.PublicURL == "" && len(c.Hosts) > 0 {
		c.PublicURL = "https://" + c.Hosts[0]
	}
	if !IsWebURL(c.PublicURL) {
		fields["public_url"] = "must be an absolute http or https URL"
	}
	if len(fields) > 0 {
		return Invalid(fields)
	}
	return nil
}
