// Package benchkit holds what the benchmark programs under bench/ share:
// their -n flag's list of counts, building the analyst binary, the
// command of an "analyst run" against the scripted LLM server, what a run
// used, and a failure's last lines.
package benchkit
