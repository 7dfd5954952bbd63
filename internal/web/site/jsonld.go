package site

import (
	"strconv"
	"strings"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Posting is schema.org's JobPosting with the properties Google's
// job-posting guidelines require (title, description, datePosted,
// hiringOrganization, jobLocation or applicantLocationRequirements) and
// recommend (validThrough, employmentType, baseSalary, identifier,
// jobLocationType). Empty optional properties are left out.
type Posting struct {
	Context                       string        `json:"@context"`
	Type                          string        `json:"@type"`
	Title                         string        `json:"title"`
	Description                   string        `json:"description"`
	DatePosted                    string        `json:"datePosted"`
	ValidThrough                  string        `json:"validThrough,omitempty"`
	EmploymentType                string        `json:"employmentType,omitempty"`
	HiringOrganization            Organization  `json:"hiringOrganization"`
	JobLocation                   *Place        `json:"jobLocation,omitempty"`
	JobLocationType               string        `json:"jobLocationType,omitempty"`
	ApplicantLocationRequirements *AdminArea    `json:"applicantLocationRequirements,omitempty"`
	BaseSalary                    *Money        `json:"baseSalary,omitempty"`
	Identifier                    PropertyValue `json:"identifier"`
	URL                           string        `json:"url"`
	DirectApply                   bool          `json:"directApply"`
}

// Organization is the hiring organization.
type Organization struct {
	Type   string `json:"@type"`
	Name   string `json:"name"`
	SameAs string `json:"sameAs,omitempty"`
}

// Place is where an on-site or hybrid job is worked.
type Place struct {
	Type    string        `json:"@type"`
	Address PostalAddress `json:"address"`
}

// PostalAddress is a job's address: as much as the job gives, and always
// the country.
type PostalAddress struct {
	Type            string `json:"@type"`
	AddressLocality string `json:"addressLocality,omitempty"`
	AddressRegion   string `json:"addressRegion,omitempty"`
	AddressCountry  string `json:"addressCountry"`
}

// AdminArea is the country a remote job's applicants must be in.
type AdminArea struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

// Money is baseSalary: the amount in the country's currency.
type Money struct {
	Type     string   `json:"@type"`
	Currency string   `json:"currency"`
	Value    Quantity `json:"value"`
}

// Quantity is the salary's value.
type Quantity struct {
	Type  string `json:"@type"`
	Value int64  `json:"value"`
}

// PropertyValue identifies the job on this board.
type PropertyValue struct {
	Type  string `json:"@type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// JobPosting builds the structured data of a public job. description is
// the job's sanitised HTML, which Google accepts. Dates carry the
// country's UTC offset; validThrough is the end of the deadline day there.
// A job that hides its company (Posting.Company is "") is posted by a
// confidential employer.
func JobPosting(country *atsgate.Country, tax *atsgate.Taxonomy, p *atsgate.Posting, description string) Posting {
	out := Posting{
		Context: "https://schema.org/", Type: "JobPosting",
		Title: p.Title, Description: description,
		DatePosted:         country.Local(p.PublishedAt).Format(time.RFC3339),
		EmploymentType:     atsgate.EmploymentType(p.Extras["job_type"]),
		HiringOrganization: Organization{Type: "Organization", Name: atsgate.ConfidentialEmployer},
		Identifier:         PropertyValue{Type: "PropertyValue", Name: country.Name + " jobs", Value: strconv.FormatInt(p.ID, 10)},
		URL:                p.PublicLink,
		DirectApply:        false,
	}
	if p.Company != "" {
		out.HiringOrganization.Name = p.Company
		if site := p.Extras["company_website"]; atsgate.IsWebURL(site) {
			out.HiringOrganization.SameAs = site
		}
	}
	if t, ok := atsgate.ValidThrough(country, p.Deadline); ok {
		out.ValidThrough = t.Format(time.RFC3339)
	}
	if p.RemoteJob() {
		out.JobLocationType = "TELECOMMUTE"
		out.ApplicantLocationRequirements = &AdminArea{Type: "Country", Name: country.Name}
	} else {
		out.JobLocation = &Place{Type: "Place", Address: PostalAddress{Type: "PostalAddress",
			AddressLocality: p.Extras["location_city"],
			AddressRegion:   strings.Join(regionNames(tax, p.States), ", "),
			AddressCountry:  strings.ToUpper(country.Code)}}
	}
	if p.Salary > 0 {
		out.BaseSalary = &Money{Type: "MonetaryAmount", Currency: country.Currency,
			Value: Quantity{Type: "QuantitativeValue", Value: p.Salary}}
	}
	return out
}
