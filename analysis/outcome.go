package analysis

import (
	"errors"
	"sync"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// Outcome is how a request ended.
type Outcome struct {
	// Reason says why the request ended; Err is the error that ended it,
	// when Reason is team.StopError or team.StopCanceled.
	Reason team.StopReason
	Err    error
	// Turns is how many turns the agents took.
	Turns int
	// Usage is the LLM usage per agent; Cost its price in USD when Priced.
	Usage  map[string]team.Usage
	Cost   float64
	Priced bool
	// Summary is the answer to the request: the final message without the
	// stop word ("" when the request did not finish).
	Summary string
	// Outputs are the text of each cell that ran, one string a cell (see
	// cell.Cell.Text), for checking expectations.
	Outputs []string
	// KernelDied reports that the kernel died and could not be brought back.
	KernelDied bool
	// Duration is the request's wall time.
	Duration time.Duration
	// Dir is the directory of the records, "" without records.
	Dir string
}

// Total is the usage of all agents together.
func (o Outcome) Total() team.Usage {
	var t team.Usage
	for _, u := range o.Usage {
		t = t.Add(u)
	}
	return t
}

// outcome turns the team's outcome into the session's.
func (s *Session) outcome(out team.Outcome) Outcome {
	o := Outcome{
		Reason: out.Reason, Err: out.Err, Turns: out.Turns, Usage: out.Usage,
		Duration: out.Duration, Dir: s.Dir(),
	}
	o.Cost, o.Priced = s.opts.Meta.Cost(out.Usage)
	if m, ok := out.Final(); ok {
		o.Summary = m.Summary
	}
	o.Outputs = s.outputs.take()
	o.KernelDied = out.Err != nil && kernelDied(out.Err)
	return o
}

// kernelDied reports whether err says the kernel died.
func kernelDied(err error) bool { return errors.Is(err, jupyter.ErrKernelDied) }

// outputCap bounds the text of one cell kept for the Outcome: its head and
// tail, where the answers are.
const outputCap = 64 << 10

// outputLog keeps the text of the cells of the request under way.
type outputLog struct {
	mu    sync.Mutex
	texts []string
}

// Observe keeps a finished cell's text.
func (l *outputLog) Observe(e team.Event) {
	f, ok := e.(cell.Finished)
	if !ok || f.Cell.Result == nil {
		return
	}
	if t := f.Cell.Text(); t != "" {
		l.mu.Lock()
		l.texts = append(l.texts, cell.Cap(t, outputCap))
		l.mu.Unlock()
	}
}

// take returns the texts kept and forgets them.
func (l *outputLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.texts
	l.texts = nil
	return t
}
