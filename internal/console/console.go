package console

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/team"
)

// Options configure a Console.
type Options struct {
	// Writer is where the transcript goes; IO.Out when nil. The JSON mode
	// passes IO.Err so that stdout holds only the events.
	Writer io.Writer
	// Verbose shows the code of every cell the executor runs, and each
	// message's duration and token count.
	Verbose bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Explain, when set, words the error that ended a run, with what the
	// user can do about it; err.Error() when nil.
	Explain func(err error) string
	// Cost, when set, prices the run's usage for the final summary; ok is
	// false when a price is unknown.
	Cost func(usage map[string]team.Usage) (usd float64, ok bool)
}

// Default limits of what the console prints of one cell's output. The full
// output lives in the run's records.
const (
	defaultMaxLines     = 200
	defaultMaxLineWidth = 1000
)

// Console renders a run's events for people as they happen. It implements
// team.Observer. While an LLM agent has not started answering, and while a
// cell runs for more than a moment, it shows a spinner on IO.Err if that is a
// terminal. Call Close when the run is over.
type Console struct {
	io      *IO
	w       io.Writer
	st      Styles
	errSt   Styles
	verbose bool
	now     func() time.Time
	cost    func(map[string]team.Usage) (float64, bool)
	explain func(error) string

	// Limits; tests lower them.
	maxLines     int
	maxLineWidth int
	// Spinner timing; tests set the delays to zero.
	thinkDelay   time.Duration
	cellDelay    time.Duration
	spinInterval time.Duration

	mu          sync.Mutex
	closed      bool
	spin        *spinner
	cur         *spinState // what the spinner shows; kept while it is paused
	phase       string     // what a cell waits for (see Phase)
	tail        string     // the end of the running cell's output (see Output)
	atLineStart bool       // the last byte written was '\n', or nothing was written
	wroteAny    bool
	agent       string // the display name of the agent whose turn it is
	streamed    bool   // the current turn has written text
	cellsShown  bool   // the current turn has shown a cell's result

	uploadDrawn time.Time // when Upload last changed the phase

	// pending is the transcript text written since the last flush: an
	// event's rendering goes out in one write, not one per line.
	pending []byte
}

// New returns a Console that writes the transcript of a run to
// opts.Writer, styled for the IO stream it is.
func New(s *IO, opts Options) *Console {
	c := &Console{
		io:           s,
		w:            opts.Writer,
		st:           s.OutStyles(),
		errSt:        s.ErrStyles(),
		verbose:      opts.Verbose,
		now:          opts.Now,
		cost:         opts.Cost,
		explain:      opts.Explain,
		maxLines:     defaultMaxLines,
		maxLineWidth: defaultMaxLineWidth,
		thinkDelay:   0,
		cellDelay:    time.Second,
		spinInterval: 100 * time.Millisecond,
		atLineStart:  true,
	}
	switch {
	case c.w == nil:
		c.w = s.Out
	case sameWriter(c.w, s.Out):
	case sameWriter(c.w, s.Err):
		c.st = c.errSt
	default:
		c.st = NewStyles(newRenderer(c.w, NoColor))
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// sameWriter reports whether a and b are the same writer, without panicking
// on writers whose dynamic type cannot be compared.
func sameWriter(a, b io.Writer) bool {
	if a == nil || b == nil {
		return false
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// Close stops the spinner, if any. The Console may still render events
// afterwards, without a spinner. Close is safe to call more than once.
func (c *Console) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopSpinner()
	c.cur = nil
	c.closed = true
	return nil
}

// Observe renders one event.
func (c *Console) Observe(e team.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.flush()
	prev := c.cur
	c.stopSpinner()
	c.cur = nil
	switch e := e.(type) {
	case team.RunStarted:
		c.runStarted(e)
	case team.TurnStarted:
		c.turnStarted(e)
	case team.Quoted:
		c.quoted(e)
	case team.TextDelta:
		if e.Text != "" {
			c.write(termsafe.String(e.Text))
			c.streamed = true
		}
	case team.TextRestart:
		c.endLine()
		c.line(c.st.Dim.Render("(answer restarted after a retry)"))
		c.streamed = false
		c.thinking()
	case team.Retry:
		c.endLine()
		reason := termsafe.Line(strings.Join(strings.Fields(e.Reason), " "))
		c.line(c.st.Dim.Render(fmt.Sprintf("retrying in %s (attempt %d): %s", human.Duration(e.Wait), e.Attempt, reason)))
		if !c.streamed {
			c.thinking()
		}
	case cell.Started:
		c.cellStarted(e)
	case cell.Finished:
		c.endLine()
		for _, l := range c.renderCell(e.Cell) {
			c.line(l)
		}
		c.cellsShown = true
	case team.Notice:
		// A notice comes between the other events (the kernel's, from
		// its own goroutine): what the spinner showed goes on below it.
		c.notice(e)
		c.resume(prev)
	case team.MessageDone:
		c.messageDone(e)
	case team.RunFinished:
		c.runFinished(e)
	}
}

func (c *Console) runStarted(e team.RunStarted) {
	c.endLine()
	task := termsafe.String(strings.TrimRight(e.Task, "\n"))
	label := c.st.Bold.Render("task:")
	if !strings.Contains(task, "\n") {
		c.line(label + " " + task)
		return
	}
	c.line(label)
	for _, l := range strings.Split(task, "\n") {
		c.line(indent(l, "  "))
	}
}

// quoted shows a message of an earlier conversation under its agent's
// header, marked as recorded.
func (c *Console) quoted(e team.Quoted) {
	c.endLine()
	if c.wroteAny {
		c.write("\n")
	}
	agent := DisplayName(e.Agent)
	c.agent, c.streamed, c.cellsShown = agent, false, false
	c.line(c.st.Rule.Render("──") + " " + c.st.Agent(agent).Render(agent) + " " + c.st.Rule.Render("── recorded"))
	for _, l := range strings.Split(termsafe.String(strings.TrimRight(e.Content, "\n")), "\n") {
		c.line(l)
	}
}

func (c *Console) turnStarted(e team.TurnStarted) {
	c.endLine()
	if c.wroteAny {
		c.write("\n")
	}
	c.agent = DisplayName(e.Agent)
	c.streamed, c.cellsShown = false, false
	c.line(c.st.Rule.Render("──") + " " + c.st.Agent(c.agent).Render(c.agent) + " " +
		c.st.Rule.Render(fmt.Sprintf("── turn %d", e.Turn)))
	if c.agent != "executor" {
		c.thinking()
	}
}

func (c *Console) cellStarted(e cell.Started) {
	c.endLine()
	code := termsafe.String(strings.TrimRight(e.Code, "\n"))
	n := strings.Count(code, "\n") + 1
	if code == "" {
		n = 0
	}
	lang := e.Language
	if lang == "" {
		lang = "python"
	}
	if c.verbose || DisplayName(e.Agent) != "executor" {
		c.line(c.st.Dim.Render(fmt.Sprintf("[cell %d] %s", e.Index, lang)))
		for _, l := range strings.Split(code, "\n") {
			c.line("    " + c.st.Code.Render(l))
		}
	} else {
		c.line(c.st.Dim.Render(fmt.Sprintf("▶ running cell %d (%s)", e.Index, human.Plural(n, "line"))))
	}
	c.tail = ""
	st := spinState{agent: "executor", label: fmt.Sprintf("running cell %d", e.Index), delay: c.cellDelay, cell: e.Index}
	if c.phase != "" {
		// The cell waits for the kernel: say so, not that it runs.
		st.label, st.phase = c.phase, true
	}
	c.startSpinner(st)
}

func (c *Console) notice(e team.Notice) {
	c.endLine()
	for _, l := range strings.Split(termsafe.String(strings.TrimRight(e.Text, "\n")), "\n") {
		if e.Warning {
			c.line(c.st.Warning.Render(l))
		} else {
			c.line(c.st.Dim.Render(l))
		}
	}
}

func (c *Console) messageDone(e team.MessageDone) {
	c.endLine()
	m := e.Message
	if !c.streamed && !c.cellsShown && strings.TrimSpace(m.Content) != "" {
		// The agent did not stream: show its message now.
		for _, l := range strings.Split(termsafe.String(strings.TrimRight(m.Content, "\n")), "\n") {
			if DisplayName(m.Agent) == "executor" {
				l = c.st.Dim.Render(l)
			}
			c.line(l)
		}
	}
	if c.verbose {
		parts := []string{human.Duration(m.Duration)}
		if m.Usage.Total() > 0 {
			parts = append(parts, formatUsage(m.Usage)+" tokens")
		}
		c.line(c.st.Dim.Render("(" + strings.Join(parts, ", ") + ")"))
	}
}

func (c *Console) runFinished(e team.RunFinished) {
	c.endLine()
	if c.wroteAny {
		c.write("\n")
	}
	reason := string(e.Reason)
	if reason == "" {
		reason = "finished"
	}
	reasonStyle := c.st.OK
	switch {
	case e.Reason == team.StopError || e.Err != nil && e.Reason != team.StopCanceled:
		reasonStyle = c.st.Error
	case e.Reason != team.StopTerminated:
		reasonStyle = c.st.Warning
	}
	c.line(c.st.Bold.Render("finished:") + " " + reasonStyle.Render(reason) +
		fmt.Sprintf(" after %s in %s", human.Plural(e.Turns, "turn"), human.Duration(e.Duration)))
	if tokens := c.tokenSummary(e.Usage); tokens != "" {
		if c.cost != nil {
			if usd, ok := c.cost(e.Usage); ok {
				tokens += fmt.Sprintf(" · cost $%.4f", usd)
			}
		}
		c.line(c.st.Dim.Render("tokens (prompt+completion): " + tokens))
	}
	if e.Err != nil {
		// The error goes to stderr, as errors do, and the transcript on
		// stdout keeps the results. Style line by line: lipgloss pads the
		// lines of a multi-line block.
		msg := e.Err.Error()
		if c.explain != nil {
			msg = c.explain(e.Err)
		}
		c.flush() // the transcript first: the error comes after it
		for _, l := range strings.Split("error: "+termsafe.String(msg), "\n") {
			_, _ = io.WriteString(c.io.Err, c.errSt.Error.Render(l)+"\n")
		}
	}
}

// tokenSummary lists the usage of each agent that spent tokens, the known
// agents first, then the total.
func (c *Console) tokenSummary(usage map[string]team.Usage) string {
	names := make([]string, 0, len(usage))
	for name, u := range usage {
		if u.Total() > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	rank := func(name string) int {
		switch DisplayName(name) {
		case "planner":
			return 0
		case "writer":
			return 1
		case "executor":
			return 2
		}
		return 3
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	var total team.Usage
	parts := make([]string, 0, len(names)+1)
	for _, name := range names {
		u := usage[name]
		total = total.Add(u)
		parts = append(parts, DisplayName(name)+" "+formatUsage(u))
	}
	parts = append(parts, "total "+formatUsage(total)+" = "+tilde(total)+strconv.Itoa(total.Total()))
	return strings.Join(parts, " · ")
}

// thinking starts the spinner that says the current LLM agent is working.
func (c *Console) thinking() {
	c.startSpinner(spinState{agent: c.agent, label: c.agent + " is thinking", delay: c.thinkDelay})
}

// startSpinner shows a spinner in the agent's colour on IO.Err if it is a
// terminal and the transcript is at the start of a line.
func (c *Console) startSpinner(st spinState) {
	if c.closed || !c.io.ErrTTY() || !c.atLineStart {
		return
	}
	c.flush() // what the spinner's line follows
	if st.start.IsZero() {
		st.start = c.now()
	} else {
		st.delay = 0 // drawn again: at once
	}
	c.cur = &st
	c.spin = startSpinner(spinnerConfig{
		w:        c.io.Err,
		style:    c.errSt.Agent(st.agent),
		label:    st.label,
		now:      c.now,
		delay:    st.delay,
		interval: c.spinInterval,
		start:    st.start,
		width:    statusWidth,
		detail:   c.detail(st),
	})
}

// detail is what a spinner shows after its label: the running cell's last
// line of output.
func (c *Console) detail(st spinState) string {
	if st.cell > 0 && !st.phase {
		return lastLine(c.tail)
	}
	return ""
}

func (c *Console) stopSpinner() {
	if c.spin != nil {
		c.spin.Stop()
		c.spin = nil
	}
}

// write adds s to the transcript, remembering whether it ended a line. It
// goes out at the next flush, which every method that writes ends with.
func (c *Console) write(s string) {
	if s == "" {
		return
	}
	c.pending = append(c.pending, s...)
	c.atLineStart = strings.HasSuffix(s, "\n")
	c.wroteAny = true
}

// maxPending is the most transcript text flush keeps room for between
// writes: one cell's rendering, capped, fits.
const maxPending = 256 << 10

// flush writes the pending transcript text in one write. Errors are
// dropped: the transcript is for people and a broken terminal must not stop
// the run.
func (c *Console) flush() {
	if len(c.pending) == 0 {
		return
	}
	_, _ = c.w.Write(c.pending)
	c.pending = c.pending[:0]
	if cap(c.pending) > maxPending {
		c.pending = nil
	}
}

// line writes s and a newline.
func (c *Console) line(s string) { c.write(s + "\n") }

// endLine ends the current line if text was written to it.
func (c *Console) endLine() {
	if !c.atLineStart {
		c.write("\n")
	}
}

// DisplayName returns the user-facing name of an agent: planner, writer or
// executor for the team's agents under any of their usual names, the name
// itself otherwise.
//
// A name read from a recording may hold anything: control characters are
// shown, not obeyed.
func DisplayName(agent string) string {
	return termsafe.Line(strings.ToLower(agent))
}

// formatUsage is "1200+340", with a leading ~ when estimated.
func formatUsage(u team.Usage) string {
	return fmt.Sprintf("%s%d+%d", tilde(u), u.PromptTokens, u.CompletionTokens)
}

func tilde(u team.Usage) string {
	if u.Estimated {
		return "~"
	}
	return ""
}

func indent(s, prefix string) string {
	if s == "" {
		return s
	}
	return prefix + s
}
