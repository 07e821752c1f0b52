//go:build !race

package redisevents

const raceEnabled = false
