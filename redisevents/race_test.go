//go:build race

package redisevents

// raceEnabled: the race detector slows every step several times over, so
// the multi-instance tests check timings only without it (.ci/run runs
// them both ways).
const raceEnabled = true
