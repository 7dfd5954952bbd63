package store

import "context"

// HostTableLoads is how many times s has loaded its host table, for tests
// that show unknown hosts cost no query.
func HostTableLoads(s *Store) int64 { return s.hosts.loads.Load() }

// WithWalkHook makes VerifyLedger call f once it has read its first
// ledger entry and before it reads the rest: a test can then do things
// while a verification is mid-walk, holding its snapshot.
func WithWalkHook(f func(context.Context)) Option { return func(s *Store) { s.onWalk = f } }

// Translate exposes translate to the tests of its mapping.
var Translate = translate

// ListSQL exposes the list page's PostgreSQL statement, for the test of
// its plan.
var ListSQL = listSQL

// EncodeCursor exposes the list cursor's encoding.
var EncodeCursor = encodeCursor
