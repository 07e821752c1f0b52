//go:build race

package verify

// raceDetector: built with -race, where allocation counts say little.
const raceDetector = true
