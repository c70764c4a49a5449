package cell

import (
	"errors"
	"fmt"

	"github.com/analyst-dev/analyst/jupyter"
)

// Status is a one-word summary of how a cell ended.
type Status string

// The statuses a cell can have.
const (
	OK          Status = "ok"          // the code ran without an exception
	Error       Status = "error"       // the code raised an exception
	Timeout     Status = "timeout"     // the cell timeout expired; the kernel was interrupted
	Interrupted Status = "interrupted" // the run was cancelled while the cell ran
	Skipped     Status = "skipped"     // the cell was not run
	Failed      Status = "failed"      // the kernel or the connection to it failed
)

// SkipReason says why a cell was not run.
type SkipReason string

// The reasons a cell is not run.
const (
	NotSkipped   SkipReason = ""
	AfterFailure SkipReason = "after-failure" // an earlier cell of the same message failed
	NotPython    SkipReason = "not-python"    // a shell block: the kernel runs Python only
	ByUser       SkipReason = "by-user"       // a person chose not to run it
	NotRun       SkipReason = "not-run"       // recorded without a result (an older recording)
)

// Restart says that the kernel died in the cell and was restarted.
type Restart struct {
	// Rebuilt reports that the cells that had succeeded before were run
	// again in the new kernel, Ran of them, Failed of which failed.
	Rebuilt     bool
	Ran, Failed int
}

// String is how the records and the console describe the restart.
func (r Restart) String() string {
	if r.Rebuilt {
		return fmt.Sprintf("kernel died; restarted; state rebuilt by re-running %d earlier cells (%d failed)", r.Ran, r.Failed)
	}
	return "kernel died; restarted; variables lost"
}

// Cell is one code block and what became of it.
type Cell struct {
	// Index counts the cells of the analysis from 1.
	Index int
	// Language is the fence's language tag; "python" when untagged.
	Language string
	// Code is the block's source.
	Code string
	// Result is the kernel's result, or nil when the cell was not run.
	Result *jupyter.Result
	// Figures are the images among the outputs, each with where it was
	// saved, in output order.
	Figures []Figure
	// Skip says why the cell was not run; Skipped says it in words.
	Skip    SkipReason
	Skipped string
	// Err is the transport or kernel failure that ended the cell, if any; a
	// Python exception is in Result.Error instead.
	Err error
	// Restart is set when the kernel died in this cell and was restarted.
	Restart *Restart
	// Edited reports that a person changed the code before it ran.
	Edited bool
}

// New returns cell number index of the given language ("python" when empty).
func New(index int, language, code string) Cell {
	if language == "" {
		language = "python"
	}
	return Cell{Index: index, Language: language, Code: code}
}

// Status summarises how the cell ended.
func (c Cell) Status() Status {
	switch {
	case c.Skip != NotSkipped || c.Skipped != "":
		return Skipped
	case c.Err != nil || c.Restart != nil:
		return Failed
	case c.Result == nil:
		return Skipped
	case c.Result.TimedOut:
		return Timeout
	case c.Result.Canceled:
		return Interrupted
	case c.Result.Error != nil || c.Result.Status == "error":
		return Error
	}
	return OK
}

// Succeeded reports whether the cell ran to its end without an exception:
// the cells whose code rebuilds a kernel's state.
func (c Cell) Succeeded() bool { return c.Status() == OK }

// Failure is the failure that ended the cell in words: the restart, the
// transport error, or "" when there was none.
func (c Cell) Failure() string {
	switch {
	case c.Restart != nil:
		return c.Restart.String()
	case c.Err != nil:
		return c.Err.Error()
	}
	return ""
}

// ErrRecorded is an error read back from a recording, known only by its
// text: the Err of a recorded cell (or of a recorded request's end, which the
// records rebuild the same way).
type ErrRecorded struct{ Text string }

func (e *ErrRecorded) Error() string { return e.Text }

// RecordedErr turns recorded failure text back into an error: nil for "",
// else an *ErrRecorded.
func RecordedErr(text string) error {
	if text == "" {
		return nil
	}
	return &ErrRecorded{Text: text}
}

// KernelDied reports whether the cell ended because the kernel died.
func (c Cell) KernelDied() bool {
	return c.Restart != nil || errors.Is(c.Err, jupyter.ErrKernelDied)
}
