package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/fence"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// Name is the executor's name in the conversation.
const Name = "executor"

// Kernel runs code. A Kernel that also has Restart(ctx) error is restarted
// when it dies, so the run can go on.
type Kernel interface {
	Execute(ctx context.Context, code string) (*jupyter.Result, error)
}

type restarter interface {
	Restart(ctx context.Context) error
}

// Options configure an Executor.
type Options struct {
	// Cap is how many characters of each cell's output the LLM sees;
	// cell.DefaultCap when zero.
	Cap int
	// Figures stores images; when nil they are described but not kept.
	Figures cell.Store
	// Writer is the agent that gets the turn when a message holds no code.
	Writer string
	// RebuildState re-runs the cells that succeeded so far after the kernel
	// had to be restarted or replaced, so that its variables come back.
	RebuildState bool
	// First is the index of the first cell; 1 when zero. A continued
	// analysis goes on counting from its last cell.
	First int
	// Approve, when set, lets a person decide about each cell before it
	// runs, and add a note for the planner after each of the executor's
	// turns.
	Approve Approver
}

// Approver is a person in the loop.
type Approver interface {
	// Approve shows the person the cell about to run and returns what they
	// decided.
	Approve(ctx context.Context, c cell.Cell) (Decision, error)
	// Note returns what the person wants the planner to read next, "" for
	// nothing.
	Note(ctx context.Context) (string, error)
}

// Action is what a person decided to do with a cell.
type Action int

// The actions.
const (
	Run      Action = iota // run the cell as it is
	Edit                   // run Decision.Code instead
	Skip                   // do not run it
	Feedback               // do not run it; send Decision.Text back to the writer
)

// Decision is a person's answer about a cell.
type Decision struct {
	Action Action
	Code   string // Edit: the code to run
	Text   string // Feedback: what to change
}

// Executor runs the code blocks of the latest message in a kernel and replies
// with what they printed, shortened for the LLM.
type Executor struct {
	kernel Kernel
	opts   Options
	cells  int
	good   []string // the code of the cells that succeeded, for RebuildState
}

// New returns an executor running code in k.
func New(k Kernel, opts Options) *Executor {
	if opts.Cap <= 0 {
		opts.Cap = cell.DefaultCap
	}
	return &Executor{kernel: k, opts: opts, cells: max(opts.First, 1) - 1}
}

// Name returns Name.
func (e *Executor) Name() string { return Name }

// Cap is how many characters of a cell's output the LLM sees.
func (e *Executor) Cap() int { return e.opts.Cap }

// Succeeded adds code to the cells that rebuild the kernel's state after a
// restart, as if it had run here (a continued analysis's earlier cells).
func (e *Executor) Succeeded(code string) { e.good = append(e.good, code) }

// Act runs the Python blocks of the latest message from another agent, in
// order, stopping at the first that fails.
func (e *Executor) Act(ctx context.Context, history []team.Message, emit func(team.Event)) (team.Message, error) {
	var source string
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Agent != Name {
			source = history[i].Content
			break
		}
	}
	blocks := fence.Runnable(source)
	if len(blocks) == 0 {
		return team.Message{
			Content: "No code to run: the last message has no ```python block. Write the code for the current sub-task in a ```python block.",
			Next:    e.opts.Writer,
		}, nil
	}

	var msg team.Message
	var parts []string
	failed, sentBack := 0, 0
	for _, b := range blocks {
		c := e.next(b.Language, b.Code)
		switch {
		case sentBack > 0:
			c.Skip, c.Skipped = cell.ByUser, fmt.Sprintf("cell %d was sent back to the writer", sentBack)
		case failed > 0:
			c.Skip, c.Skipped = cell.AfterFailure, fmt.Sprintf("cell %d failed first", failed)
		case b.Kind() == fence.Shell:
			c.Skip, c.Skipped = cell.NotPython, b.Language+" is not run: the kernel runs Python only"
		}
		if err := e.cell(ctx, Name, &c, emit); err != nil {
			return msg, err
		}
		msg.Cells = append(msg.Cells, c.Index)
		parts = append(parts, c.ForLLM(e.opts.Cap))
		switch {
		case c.Skip == cell.ByUser && sentBack == 0 && strings.HasPrefix(c.Skipped, feedbackPrefix):
			sentBack = c.Index
			msg.Next = e.opts.Writer
		case c.Status() != cell.Skipped && c.Status() != cell.OK && failed == 0:
			failed = c.Index
		}
		if err := ctx.Err(); err != nil {
			return msg, err
		}
	}
	msg.Content = strings.Join(parts, "\n\n")
	if e.opts.Approve != nil {
		note, err := e.opts.Approve.Note(ctx)
		if err != nil {
			return msg, err
		}
		if note = strings.TrimSpace(note); note != "" {
			msg.Content += "\n\nA note from the person: " + note
		}
	}
	msg.State = e.State(ctx)
	return msg, nil
}

// feedbackPrefix starts the reason of a cell a person sent back to the
// writer.
const feedbackPrefix = "the person asked for a change: "

// approve asks the person about c, and applies the decision.
func (e *Executor) approve(ctx context.Context, c *cell.Cell) error {
	d, err := e.opts.Approve.Approve(ctx, *c)
	if err != nil {
		return fmt.Errorf("approve cell %d: %w", c.Index, err)
	}
	switch d.Action {
	case Edit:
		c.Code, c.Edited = d.Code, true
	case Skip:
		c.Skip, c.Skipped = cell.ByUser, "the person chose not to run it"
	case Feedback:
		c.Skip, c.Skipped = cell.ByUser, feedbackPrefix+strings.TrimSpace(d.Text)
	}
	return nil
}

// RunCode runs code as the next cell, as Act runs a block: it reports the
// cell to emit as cell.Started and cell.Finished under the given agent's
// name, keeps its figures, restarts the kernel if it died, and returns the
// cell. The error is not nil only when the kernel cannot go on; a Python
// exception is in the cell's result.
func (e *Executor) RunCode(ctx context.Context, agent, code string, emit func(team.Event)) (cell.Cell, error) {
	c := e.next("python", code)
	err := e.cell(ctx, agent, &c, emit)
	return c, err
}

// next numbers a new cell.
func (e *Executor) next(language, code string) cell.Cell {
	e.cells++
	return cell.New(e.cells, language, code)
}

// cell reports c as started, runs it unless it is skipped, and reports it
// as finished. When the kernel cannot go on it returns the error without
// reporting the cell as finished.
func (e *Executor) cell(ctx context.Context, agent string, c *cell.Cell, emit func(team.Event)) error {
	if e.opts.Approve != nil && c.Skip == cell.NotSkipped {
		if err := e.approve(ctx, c); err != nil {
			return err
		}
	}
	emit(cell.Started{Agent: agent, Index: c.Index, Language: c.Language, Code: c.Code})
	if c.Skip == cell.NotSkipped {
		if err := e.run(ctx, c, emit); err != nil {
			return err
		}
	}
	emit(cell.Finished{Agent: agent, Cell: *c})
	return nil
}

// run executes the cell, keeps its figures and, when the kernel died,
// restarts it. It returns an error only when the kernel cannot go on (the
// gateway is unreachable, the kernel could not start or restart).
func (e *Executor) run(ctx context.Context, c *cell.Cell, emit func(team.Event)) error {
	res, err := e.kernel.Execute(ctx, c.Code)
	if err != nil && !errors.Is(err, jupyter.ErrKernelDied) {
		return fmt.Errorf("run cell %d: %w", c.Index, err)
	}
	c.Result, c.Err = res, err
	for _, ferr := range c.SaveFigures(e.opts.Figures) {
		emit(team.Notice{Text: ferr.Error(), Warning: true})
	}
	if c.Succeeded() {
		e.good = append(e.good, c.Code)
	}
	if err == nil {
		return nil
	}
	r, ok := e.kernel.(restarter)
	if !ok {
		return fmt.Errorf("run cell %d: %w", c.Index, err)
	}
	emit(team.Notice{Text: fmt.Sprintf("the kernel died in cell %d; restarting it (variables are lost)", c.Index), Warning: true})
	if rerr := r.Restart(ctx); rerr != nil {
		return fmt.Errorf("run cell %d: %w; restart failed: %w", c.Index, err, rerr)
	}
	c.Err, c.Restart = nil, &cell.Restart{}
	if e.opts.RebuildState && len(e.good) > 0 {
		*c.Restart = e.rebuild(ctx, emit)
	}
	return nil
}

// rebuild re-runs the cells that succeeded so far, in order, in the new
// kernel.
func (e *Executor) rebuild(ctx context.Context, emit func(team.Event)) cell.Restart {
	emit(team.Notice{Text: fmt.Sprintf("rebuilding the kernel's state: re-running %d earlier cells", len(e.good))})
	r := cell.Restart{Rebuilt: true}
	for _, code := range e.good {
		res, err := e.kernel.Execute(ctx, code)
		r.Ran++
		if err != nil || res.Error != nil || res.TimedOut {
			r.Failed++
		}
		if err != nil {
			break
		}
	}
	return r
}
