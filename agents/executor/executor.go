package executor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

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
	// DefaultCap when zero.
	Cap int
	// Figures stores images; when nil they are described but not kept.
	Figures FigureStore
	// Writer is the agent that gets the turn when a message holds no code.
	Writer string
	// RebuildState re-runs the cells that succeeded so far after the kernel
	// had to be restarted or replaced, so that its variables come back.
	RebuildState bool
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
		opts.Cap = DefaultCap
	}
	return &Executor{kernel: k, opts: opts}
}

// Name returns Name.
func (e *Executor) Name() string { return Name }

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
	var blocks []Block
	for _, b := range Extract(source) {
		if b.Kind() != Other && strings.TrimSpace(b.Code) != "" {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		return team.Message{
			Content: "No code to run: the last message has no ```python block. Write the code for the current sub-task in a ```python block.",
			Next:    e.opts.Writer,
		}, nil
	}

	var msg team.Message
	var parts []string
	failed := 0
	for _, b := range blocks {
		c := e.next(b.Language, b.Code)
		switch {
		case failed > 0:
			c.Skipped = fmt.Sprintf("cell %d failed first", failed)
		case b.Kind() == Shell:
			c.Skipped = b.Language + " is not run: the kernel runs Python only"
		}
		if err := e.cell(ctx, Name, &c, emit); err != nil {
			return msg, err
		}
		msg.Cells = append(msg.Cells, c)
		parts = append(parts, e.Format(c))
		if c.Skipped == "" && c.Status() != "ok" && failed == 0 {
			failed = c.Index
		}
		if err := ctx.Err(); err != nil {
			return msg, err
		}
	}
	msg.Content = strings.Join(parts, "\n\n")
	return msg, nil
}

// RunCode runs code as the next cell, as Act runs a block: it reports the
// cell to emit as CellStarted and CellFinished under the given agent's name,
// keeps its figures, restarts the kernel if it died, and returns the cell
// with its rendering for the LLM (see Format). The error is not nil only
// when the kernel cannot go on; a Python exception is in the cell's result.
func (e *Executor) RunCode(ctx context.Context, agent, code string, emit func(team.Event)) (team.Cell, string, error) {
	c := e.next("python", code)
	if err := e.cell(ctx, agent, &c, emit); err != nil {
		return c, "", err
	}
	return c, e.Format(c), nil
}

// next numbers a new cell.
func (e *Executor) next(language, code string) team.Cell {
	e.cells++
	if language == "" {
		language = "python"
	}
	return team.Cell{Index: e.cells, Language: language, Code: code}
}

// cell reports c as started, runs it unless it is skipped, and reports it
// as finished. When the kernel cannot go on it returns the error without
// reporting the cell as finished.
func (e *Executor) cell(ctx context.Context, agent string, c *team.Cell, emit func(team.Event)) error {
	emit(team.CellStarted{Agent: agent, Index: c.Index, Language: c.Language, Code: c.Code})
	if c.Skipped == "" {
		if err := e.run(ctx, c, emit); err != nil {
			return err
		}
	}
	emit(team.CellFinished{Agent: agent, Cell: *c})
	return nil
}

// run executes the cell, keeps its figures and, when the kernel died,
// restarts it. It returns an error only when the kernel cannot go on (the
// gateway is unreachable, the kernel could not start or restart).
func (e *Executor) run(ctx context.Context, c *team.Cell, emit func(team.Event)) error {
	res, err := e.kernel.Execute(ctx, c.Code)
	if err != nil && !errors.Is(err, jupyter.ErrKernelDied) {
		return fmt.Errorf("run cell %d: %w", c.Index, err)
	}
	c.Result, c.Err = res, err
	if err == nil && res != nil && res.Error == nil && !res.TimedOut && !res.Canceled {
		e.good = append(e.good, c.Code)
	}
	if res != nil {
		for _, o := range res.Outputs {
			im, ok := ImageOf(o)
			if !ok {
				continue
			}
			name := ""
			if e.opts.Figures != nil {
				n, err := e.opts.Figures.SaveFigure(im)
				if err != nil {
					emit(team.Notice{Text: err.Error(), Warning: true})
				}
				name = n
			}
			c.Figures = append(c.Figures, name)
		}
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
	c.Err = errKernelRestarted
	if e.opts.RebuildState && len(e.good) > 0 {
		c.Err = e.rebuild(ctx, emit)
	}
	return nil
}

var errKernelRestarted = errors.New("kernel died; restarted; variables lost")

// rebuiltError says the kernel was restarted and its state rebuilt by
// re-running the cells that had succeeded.
type rebuiltError struct{ ran, failed int }

func (e *rebuiltError) Error() string {
	return fmt.Sprintf("kernel died; restarted; state rebuilt by re-running %d earlier cells (%d failed)", e.ran, e.failed)
}

func (e *rebuiltError) Unwrap() error { return errKernelRestarted }

// rebuild re-runs the cells that succeeded so far, in order, in the new
// kernel.
func (e *Executor) rebuild(ctx context.Context, emit func(team.Event)) error {
	emit(team.Notice{Text: fmt.Sprintf("rebuilding the kernel's state: re-running %d earlier cells", len(e.good))})
	r := &rebuiltError{}
	for _, code := range e.good {
		res, err := e.kernel.Execute(ctx, code)
		r.ran++
		if err != nil || res.Error != nil || res.TimedOut {
			r.failed++
		}
		if err != nil {
			break
		}
	}
	return r
}

// Format renders a cell for the LLM: a status line, then its output capped to
// the executor's budget.
func (e *Executor) Format(c team.Cell) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[cell %d] ", c.Index)
	switch {
	case c.Skipped != "":
		fmt.Fprintf(&b, "not run: %s.", c.Skipped)
		if strings.Contains(c.Skipped, "Python only") {
			b.WriteString(" Use Python (the subprocess module) for anything a shell would do.")
		}
		return b.String()
	case errors.As(c.Err, new(*rebuiltError)):
		b.WriteString(c.Err.Error() + ". The variables of those cells are back; this cell's own work is lost: run it again.")
	case errors.Is(c.Err, errKernelRestarted):
		b.WriteString("kernel died; restarted; variables lost. Every variable, import and loaded file of earlier cells is gone: load and recompute what the next steps need.")
	case c.Err != nil:
		fmt.Fprintf(&b, "failed: %v", c.Err)
	}
	res := c.Result
	if res == nil {
		return b.String()
	}
	if c.Err == nil {
		fmt.Fprintf(&b, "%s", c.Status())
		if res.ExecutionCount > 0 {
			fmt.Fprintf(&b, ", execution count %d", res.ExecutionCount)
		}
		fmt.Fprintf(&b, ", %s", res.Duration.Round(time.Millisecond))
	}
	switch {
	case res.TimedOut:
		fmt.Fprintf(&b, "\nThe cell timed out after %s and was interrupted. The kernel and its variables are kept; make the computation smaller or faster.", res.Duration.Round(time.Second))
	case res.Canceled:
		b.WriteString("\nThe cell was interrupted.")
	}
	if res.Reconnected {
		b.WriteString("\nThe connection to the kernel dropped during the cell and was restored; output printed at that moment may be missing.")
	}
	out := Text(res, c.Figures)
	if res.DroppedBytes > 0 {
		out += fmt.Sprintf("\n… %d more bytes of output were dropped …", res.DroppedBytes)
	}
	if strings.TrimSpace(out) == "" {
		if c.Status() == "ok" {
			b.WriteString("\n(no output: print what should be seen)")
		}
		return b.String()
	}
	b.WriteString("\n")
	b.WriteString(Cap(strings.TrimRight(out, "\n"), e.opts.Cap))
	return b.String()
}

// Text is a result's output as plain text: streams as they are, rich outputs
// by their text/plain form, images as a line naming the saved figure, errors
// as their traceback without colour codes.
func Text(res *jupyter.Result, figures []string) string {
	var b strings.Builder
	nl := func() {
		if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	fig := 0
	for _, o := range res.Outputs {
		switch o.Type {
		case "stream":
			b.WriteString(jupyter.StripANSI(o.Text))
		case "error":
			// The result's Error is rendered below.
		default:
			nl()
			if im, ok := ImageOf(o); ok {
				name := ""
				if fig < len(figures) {
					name = figures[fig]
				}
				fig++
				if name != "" {
					fmt.Fprintf(&b, "[%s saved as %s]\n", im.Describe(), name)
				} else {
					fmt.Fprintf(&b, "[%s]\n", im.Describe())
				}
				continue
			}
			if s, ok := o.Data["text/plain"].(string); ok {
				b.WriteString(jupyter.StripANSI(s))
				nl()
				continue
			}
			if mimes := slices.Sorted(maps.Keys(o.Data)); len(mimes) > 0 {
				fmt.Fprintf(&b, "[%s output]\n", mimes[0])
			}
		}
	}
	if e := res.Error; e != nil {
		nl()
		tb := e.PlainTraceback()
		if tb == "" {
			tb = e.Name + ": " + e.Value
		}
		b.WriteString(tb)
		if e.Name == "StdinNotImplementedError" {
			b.WriteString("\ninput() is not available here: the code must not ask for input.")
		}
	}
	return b.String()
}
