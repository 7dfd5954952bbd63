package atsgate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestDiff(t *testing.T) {
	old := Content{Title: "Nurse", Description: "<p>a</p>", ShowCompanyName: true, States: []int64{1, 2},
		Extras: map[string]string{"company_name": "Acme", "job_type": "FULL_TIME"}}
	tests := map[string]struct {
		new  Content
		want []FieldChange
	}{
		"same":                       {new: old, want: nil},
		"empty list reads as absent": {new: func() Content { c := old; c.Qualifications = []int64{}; return c }(), want: nil},
		"fields in a fixed order": {
			new: func() Content {
				c := old
				c.Title, c.Salary, c.States = "Head nurse", 900, nil
				c.Extras = map[string]string{"company_name": "Acme Ltd", "job_type": "FULL_TIME"}
				return c
			}(),
			want: []FieldChange{
				{Field: "title", Old: "Nurse", New: "Head nurse"},
				{Field: "salary", Old: "", New: "900"},
				{Field: "states", Old: "1, 2", New: ""},
				{Field: "company_name", Old: "Acme", New: "Acme Ltd"},
			},
		},
		"show_company_name": {
			new:  func() Content { c := old; c.ShowCompanyName = false; return c }(),
			want: []FieldChange{{Field: "show_company_name", Old: "true", New: "false"}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Diff(old, tt.new)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContentApply(t *testing.T) {
	live := Content{Title: "Nurse", Description: "d", Extras: map[string]string{"company_name": "Acme", "benefits": "b"}}
	in := &JobInput{Title: ptr("Head nurse"), Specialization: ptr(int64(-3)), States: &[]int64{4},
		Extras: map[string]string{"benefits": "", "department": "Care"}}
	got := live.Apply(in)
	want := Content{Title: "Head nurse", Description: "d", States: []int64{4},
		Extras: map[string]string{"company_name": "Acme", "department": "Care"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Apply (-want +got):\n%s", diff)
	}
	if live.Extras["benefits"] != "b" || live.Title != "Nurse" {
		t.Errorf("Apply changed its receiver: %+v", live)
	}
}

func TestPlanUpdate(t *testing.T) {
	live := Content{Title: "Nurse", Description: "d", ShowCompanyName: true}
	proposed := live
	proposed.Title = "Head nurse"
	tests := map[string]struct {
		state       JobState
		autoPublish bool
		pending     *Content
		in          JobInput
		want        UpdatePlan
	}{
		"pending job goes live": {
			state: StatePending, in: JobInput{Title: ptr("Head nurse")},
			want: UpdatePlan{Kind: UpdateLive, Content: proposed, Changed: []string{"title"}},
		},
		"published job's visible change is held": {
			state: StatePublished, in: JobInput{Title: ptr("Head nurse")},
			want: UpdatePlan{Kind: UpdateHold, Content: proposed, Changed: []string{"title"}},
		},
		"nothing visible changes": {
			state: StatePublished, in: JobInput{Title: ptr("Nurse"), Description: ptr("d")},
			want: UpdatePlan{Kind: UpdateLive, Content: live},
		},
		"auto-publish goes live and is recorded": {
			state: StatePublished, autoPublish: true, in: JobInput{Title: ptr("Head nurse")},
			want: UpdatePlan{Kind: UpdateLive, Content: proposed, Changed: []string{"title"}},
		},
		"a newer edit applies over the pending one": {
			state: StatePublished, pending: &proposed, in: JobInput{Description: ptr("e")},
			want: UpdatePlan{Kind: UpdateHold, Content: Content{Title: "Head nurse", Description: "e", ShowCompanyName: true},
				Changed: []string{"title", "description"}, Discard: true},
		},
		"resending the pending edit keeps it": {
			state: StatePublished, pending: &proposed, in: JobInput{Title: ptr("Head nurse"), Description: ptr("d")},
			want: UpdatePlan{Kind: UpdateKeep, Content: proposed, Changed: []string{"title"}},
		},
		"going back to the live content withdraws the edit": {
			state: StatePublished, pending: &proposed, in: JobInput{Title: ptr("Nurse")},
			want: UpdatePlan{Kind: UpdateWithdraw, Content: live, Changed: []string{"title"}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := PlanUpdate(tt.state, tt.autoPublish, live, tt.pending, &tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PlanUpdate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReviewsEdit(t *testing.T) {
	for _, tt := range []struct {
		s    JobState
		edit bool
		want bool
	}{
		{StatePublished, true, true},
		{StatePublished, false, false},
		{StatePending, false, false},
		{StateClosed, true, false},
	} {
		if got := tt.s.ReviewsEdit(tt.edit); got != tt.want {
			t.Errorf("%s.ReviewsEdit(%v) = %v, want %v", tt.s, tt.edit, got, tt.want)
		}
	}
}
