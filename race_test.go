//go:build race

package verify

// raceEnabled: the race detector is on, and sync.Pool drops items at random.
const raceEnabled = true
