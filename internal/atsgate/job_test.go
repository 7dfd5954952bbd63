package atsgate_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
)

var allStates = []atsgate.JobState{atsgate.StatePending, atsgate.StatePublished, atsgate.StateDisapproved,
	atsgate.StateClosed, atsgate.StateExpired}

// TestJobLifecycle pins the whole transition table: the lifecycle the
// JobState doc comment states and nothing more.
func TestJobLifecycle(t *testing.T) {
	t.Parallel()
	want := map[atsgate.JobState][]atsgate.JobState{
		atsgate.StatePending:   {atsgate.StatePublished, atsgate.StateDisapproved, atsgate.StateClosed},
		atsgate.StatePublished: {atsgate.StateClosed, atsgate.StateExpired},
	}
	got := map[atsgate.JobState][]atsgate.JobState{}
	for _, from := range append(allStates, "", "bogus") {
		for _, to := range append(allStates, "", "bogus") {
			if from.CanTransition(to) {
				got[from] = append(got[from], to)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
}

func TestJobStateDecisions(t *testing.T) {
	t.Parallel()
	type decision struct {
		Move bool
		Code string
		Msg  string
	}
	decide := func(move bool, err error) decision {
		return decision{move, atsgate.ErrorCode(err), atsgate.ErrorMessage(err)}
	}
	tests := []struct {
		state                 atsgate.JobState
		approve, disapprove   decision
		updateCode, updateMsg string
	}{
		{atsgate.StatePending, decision{Move: true}, decision{Move: true}, "", ""},
		{atsgate.StatePublished, decision{}, decision{Code: atsgate.ECONFLICT,
			Msg: "job 7 is published; only a pending job can be disapproved"}, "", ""},
		{atsgate.StateDisapproved, decision{Code: atsgate.ECONFLICT,
			Msg: "job 7 is disapproved; only a pending job can be approved"}, decision{},
			atsgate.ECONFLICT, "the job is disapproved and can no longer be updated"},
		{atsgate.StateClosed, decision{Code: atsgate.ECONFLICT, Msg: "job 7 is closed; only a pending job can be approved"},
			decision{Code: atsgate.ECONFLICT, Msg: "job 7 is closed; only a pending job can be disapproved"},
			atsgate.ECONFLICT, "the job is closed and can no longer be updated"},
		{atsgate.StateExpired, decision{Code: atsgate.ECONFLICT, Msg: "job 7 is expired; only a pending job can be approved"},
			decision{Code: atsgate.ECONFLICT, Msg: "job 7 is expired; only a pending job can be disapproved"},
			atsgate.ECONFLICT, "the job is expired and can no longer be updated"},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			if diff := cmp.Diff(tt.approve, decide(tt.state.Approve(7))); diff != "" {
				t.Errorf("Approve (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.disapprove, decide(tt.state.Disapprove(7))); diff != "" {
				t.Errorf("Disapprove (-want +got):\n%s", diff)
			}
			err := tt.state.CheckUpdate()
			if code, msg := atsgate.ErrorCode(err), atsgate.ErrorMessage(err); code != tt.updateCode || msg != tt.updateMsg {
				t.Errorf("CheckUpdate() = %s %q, want %s %q", code, msg, tt.updateCode, tt.updateMsg)
			}
			if open := tt.state.Open(); open != (tt.updateCode == "") {
				t.Errorf("Open() = %v, but CheckUpdate() = %v", open, err)
			}
		})
	}
}
