package store

// HostTableLoads is how many times s has loaded its host table, for tests
// that show unknown hosts cost no query.
func HostTableLoads(s *Store) int64 { return s.hosts.loads.Load() }
