// Package record writes down what a run of the agent team did, as it
// happens, in a run directory:
//
//   - events.jsonl: every event but streamed text, one JSON object a line,
//     appended and written out as each event arrives;
//   - analysis.ipynb: an nbformat 4.5 notebook of the task, the planner's
//     sub-tasks and summary, and every code cell with all its outputs,
//     rewritten atomically after each cell and planner message;
//   - report.md: the task, the summary, the figures, a table of steps,
//     token usage, cost, wall time and why the run stopped, written when the
//     run finishes or, if it never does, when the Recorder is closed.
//
// A crash or an interrupt therefore leaves valid files that hold everything
// up to that moment. The figures themselves are saved by the executor (see
// executor.FigureDir) in the same directory; the notebook and the report refer
// to them by the names the executor chose.
//
// The files never hold secrets: Meta, the run's configuration, has no field
// for an API key or a gateway token. Every name written in the directory is
// fixed by this package; none comes from kernel output.
//
// EventJSON encodes one event as the line events.jsonl holds for it, so that a
// JSON stream on standard output and the file agree; ReadEvents parses the
// file back for replaying a run.
package record
