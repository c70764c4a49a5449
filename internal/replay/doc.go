// Package replay re-runs a recorded analysis: it reads a run's events.jsonl,
// finds its data files, and compares what each recorded cell prints now with
// what it printed then. It is how an analysis is checked in CI without LLM
// cost, and how a recorded session is shown to a newcomer.
package replay
