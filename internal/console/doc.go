// Package console renders a run of the agent team for people: the task, each
// agent's turn under a coloured header, the streamed text as it arrives, the
// code cells and their results in boxes, retries, notices and a final
// summary.
//
// All terminal output goes through an IO value, built by System for the real
// standard streams or by Test for buffers. Colour, styling and the spinner
// are used only on streams that are terminals, and never when NO_COLOR is set
// or TERM is dumb, so output that is piped or captured holds no escape codes.
// On a terminal, the spinner says what a run waits for (Phase) and shows the
// last line of a long cell's output (Output); Writer lets a command print
// around it, and Board keeps a live line per task of a batch.
//
// The package is the only importer of lipgloss in the project: every style
// lives in one Styles value built from a lipgloss Renderer for the stream it
// is written to.
package console
