// Package batch reads the batch files of `analyst batch`, checks a finished
// task's records against the task's expectations, and writes the batch's
// summary.json and junit.xml.
//
// A batch file is YAML (a list of tasks, or a mapping with a "tasks" list) or
// JSON Lines (one task object per line, for files ending in .jsonl or
// .ndjson). Each task has a unique name, the task text, its data files
// (relative to the batch file's directory), optional per-task settings and a
// list of expectations. An expectation is a plain substring, a regular
// expression written /like this/ (RE2 syntax, with ^ and $ matching at line
// boundaries), or a mapping {regex: "..."} or {text: "..."}. A task meets
// an expectation when the planner's final summary or the text of any
// executed cell's outputs contains it.
package batch
