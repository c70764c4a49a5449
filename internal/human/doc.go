// Package human words values for people: durations, counts of things, and
// what went wrong with a file, the same way in every message, transcript
// and report.
package human
