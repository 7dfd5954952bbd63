// Package config holds the data shipped inside the atsgate binary: the
// development country catalog and each country's taxonomy (states or
// regions, qualification levels and specializations).
//
// The files live next to this source and are embedded with go:embed, so a
// fresh checkout and a container image carry the same reference data. IDs in
// the taxonomy files are part of the public API (integrators send them in
// jobs), so an existing ID must never be renumbered or reused; new terms get
// new IDs at the end of their list.
package config

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/atsgate/atsgate/internal/atsgate"
)

//go:embed countries.json taxonomy/*.json
var files embed.FS

// CountrySeed is one entry of the development country catalog.
type CountrySeed struct {
	// Code is the two-letter lowercase country code, e.g. "gh".
	Code string `json:"code"`
	// Name is the country's display name.
	Name string `json:"name"`
	// Hosts are the host names the country's site answers on.
	Hosts []string `json:"hosts"`
	// Currency is the ISO 4217 code of the country's wallets.
	Currency string `json:"currency"`
	// TimeZone is the IANA zone used for dates and month boundaries.
	TimeZone string `json:"time_zone"`
	// Price is the default per-job price as a decimal string, so it stays exact.
	Price string `json:"price"`
	// PublicURL is the base URL of the country's public site.
	PublicURL string `json:"public_url"`
}

// DevCountries returns the development country catalog from
// config/countries.json. Each call returns a fresh copy that the caller may
// modify.
func DevCountries() ([]CountrySeed, error) {
	b, err := files.ReadFile("countries.json")
	if err != nil {
		return nil, fmt.Errorf("read country catalog: %w", err)
	}
	var seeds []CountrySeed
	if err := decodeStrict(b, &seeds); err != nil {
		return nil, fmt.Errorf("parse country catalog: %w", err)
	}
	return seeds, nil
}

// commonFile is the shape of taxonomy/common.json.
type commonFile struct {
	Qualifications  []atsgate.Term `json:"qualifications"`
	Specializations []atsgate.Term `json:"specializations"`
}

// countryFile is the shape of taxonomy/<cc>.json.
type countryFile struct {
	Country string         `json:"country"`
	States  []atsgate.Term `json:"states"`
}

// taxonomies holds the parsed taxonomy files, loaded on first use.
var taxonomies struct {
	once    sync.Once
	common  commonFile
	country map[string]*atsgate.Taxonomy
	err     error
}

// Taxonomy returns the country's taxonomy: its states plus the common
// qualification and specialization lists, already indexed, with Country set
// to the code in lower case (codes match case-insensitively). A country
// without a file gets the common lists and no states. The result is shared
// and must not be modified.
//
// The embedded files are checked by this package's tests, so a file that
// does not parse is a build defect and Taxonomy panics on it rather than
// serving a silently empty taxonomy.
func Taxonomy(countryCode string) *atsgate.Taxonomy {
	taxonomies.once.Do(loadTaxonomies)
	if taxonomies.err != nil {
		panic(taxonomies.err)
	}
	code := strings.ToLower(countryCode)
	if t, ok := taxonomies.country[code]; ok {
		return t
	}
	// Built per call rather than cached, so codes taken from requests cannot
	// grow a cache without bound; the slices are shared and cheap to index.
	return newTaxonomy(code, nil, taxonomies.common)
}

// loadTaxonomies parses every embedded taxonomy file into the cache.
func loadTaxonomies() {
	common, countries, err := parseTaxonomies()
	taxonomies.common, taxonomies.country, taxonomies.err = common, countries, err
}

// parseTaxonomies reads taxonomy/common.json and every taxonomy/<cc>.json.
func parseTaxonomies() (commonFile, map[string]*atsgate.Taxonomy, error) {
	var common commonFile
	b, err := files.ReadFile("taxonomy/common.json")
	if err != nil {
		return common, nil, fmt.Errorf("read common taxonomy: %w", err)
	}
	if err := decodeStrict(b, &common); err != nil {
		return common, nil, fmt.Errorf("parse taxonomy/common.json: %w", err)
	}
	names, err := fs.Glob(files, "taxonomy/*.json")
	if err != nil {
		return common, nil, fmt.Errorf("list taxonomies: %w", err)
	}
	countries := make(map[string]*atsgate.Taxonomy, len(names))
	for _, name := range names {
		code := strings.TrimSuffix(strings.TrimPrefix(name, "taxonomy/"), ".json")
		if code == "common" {
			continue
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return common, nil, fmt.Errorf("read %s: %w", name, err)
		}
		var f countryFile
		if err := decodeStrict(b, &f); err != nil {
			return common, nil, fmt.Errorf("parse %s: %w", name, err)
		}
		if f.Country != code {
			return common, nil, fmt.Errorf("%s: country %q does not match the file name", name, f.Country)
		}
		countries[code] = newTaxonomy(code, f.States, common)
	}
	return common, countries, nil
}

// newTaxonomy assembles and indexes a country's taxonomy.
func newTaxonomy(code string, states []atsgate.Term, common commonFile) *atsgate.Taxonomy {
	if states == nil {
		// Serve [] rather than null at GET /api/ats/taxonomy.
		states = []atsgate.Term{}
	}
	t := &atsgate.Taxonomy{
		Country:         code,
		States:          states,
		Qualifications:  common.Qualifications,
		Specializations: common.Specializations,
	}
	t.Index()
	return t
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing
// data, so a typo in a shipped file fails the tests instead of being ignored.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
