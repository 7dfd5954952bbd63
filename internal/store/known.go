package store

// knownJobs remembers which (employer, external_id) pairs this process
// has seen stored, so a replay it has seen before is answered by the
// job's plain read (the get's statement) instead of the create's. Jobs
// are never deleted and an external_id never changes, so a pair once
// stored stays stored: the set can be incomplete (another instance's
// creates, a restart, a reset when full) but never wrong, and the read
// returns the job as it is now, as the create's replay does.
type knownJobs struct{ m memo[knownJob, struct{}] }

type knownJob struct {
	employerID int64
	externalID string
}

// knownJobsMax bounds the set: about 16 MiB of keys at the longest
// external IDs, far less at typical ones.
const knownJobsMax = 1 << 16

func (k *knownJobs) has(employerID int64, externalID string) bool {
	_, ok := k.m.get(knownJob{employerID, externalID})
	return ok
}

func (k *knownJobs) add(employerID int64, externalID string) {
	k.m.put(knownJob{employerID, externalID}, struct{}{}, knownJobsMax)
}
