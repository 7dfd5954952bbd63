package atsgate

// Taxonomy is a country's reference data: regions (states), qualification
// levels and specializations, each a list of terms with stable IDs.
type Taxonomy struct {
	Country         string `json:"country"`
	States          []Term `json:"states"`
	Qualifications  []Term `json:"qualifications"`
	Specializations []Term `json:"specializations"`

	states, qualifications, specializations map[int64]bool
}

// Term is one entry of a taxonomy list.
type Term struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Index prepares the lookups; call it once after filling the lists.
func (t *Taxonomy) Index() {
	index := func(terms []Term) map[int64]bool {
		m := make(map[int64]bool, len(terms))
		for _, x := range terms {
			m[x.ID] = true
		}
		return m
	}
	t.states = index(t.States)
	t.qualifications = index(t.Qualifications)
	t.specializations = index(t.Specializations)
}

// HasState reports whether id is one of the country's states or regions.
func (t *Taxonomy) HasState(id int64) bool { return t != nil && t.states[id] }

// HasQualification reports whether id is a known qualification level.
func (t *Taxonomy) HasQualification(id int64) bool { return t != nil && t.qualifications[id] }

// HasSpecialization reports whether id is a known specialization.
func (t *Taxonomy) HasSpecialization(id int64) bool { return t != nil && t.specializations[id] }
