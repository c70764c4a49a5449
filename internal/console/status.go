package console

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"github.com/analyst-dev/analyst/jupyter"
)

// statusWidth caps a spinner's line, in columns, so that it never wraps on
// a terminal of 80 columns: a wrapped line could not be redrawn in place.
const statusWidth = 79

// spinState is what the spinner on screen shows, kept so that it can be
// paused while something else is written to the terminal and drawn again
// as it was, its elapsed time going on.
type spinState struct {
	agent, label string
	start        time.Time
	delay        time.Duration
	cell         int  // the cell it waits on, 0 for none
	phase        bool // it shows the phase label, not the cell
}

// Phase says what the run is waiting for before a cell can run, such as
// "starting the kernel"; "" ends the phase. On a terminal, a cell started
// during a phase shows the phase's label under its spinner instead of
// "running cell N" until the phase ends, and while nothing else is shown the
// phase has a spinner of its own. The transcript is not changed.
func (c *Console) Phase(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase = label
	cur := c.cur
	switch {
	case cur == nil && label != "":
		c.startSpinner(spinState{agent: "executor", label: label, delay: c.cellDelay, phase: true})
	case cur != nil && cur.phase:
		c.stopSpinner()
		c.cur = nil
		switch {
		case label != "":
			c.startSpinner(spinState{agent: cur.agent, label: label, start: cur.start, delay: cur.delay, cell: cur.cell, phase: true})
		case cur.cell > 0:
			c.startSpinner(spinState{agent: cur.agent, label: fmt.Sprintf("running cell %d", cur.cell), delay: cur.delay, cell: cur.cell})
		}
	}
}

// maxTail is how many bytes of a running cell's output the console keeps
// to find its last line.
const maxTail = 4096

// Output shows the last line of a running cell's output after its spinner,
// on a terminal: a long cell's progress, live. It is meant to be the
// kernel session's OnOutput; outputs other than streams, and outputs while
// no cell's spinner runs, change nothing. The transcript is not changed:
// the cell's output is shown there when it ends.
func (c *Console) Output(o jupyter.Output) {
	if o.Type != "stream" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.cur.cell == 0 {
		return
	}
	text := o.Text
	if len(text) > maxTail {
		text = text[len(text)-maxTail:] // only the end can be shown
	}
	c.tail += text
	if n := len(c.tail); n > maxTail {
		c.tail = strings.ToValidUTF8(c.tail[n-maxTail:], "")
	}
	if c.spin != nil {
		c.spin.setDetail(c.detail(*c.cur))
	}
}

// lastLine is the last line of s that holds something, as a terminal shows
// it (after the last carriage return), without escape codes or control
// characters.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if i := strings.LastIndexAny(s, "\n"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, jupyter.StripANSI(s))
	return strings.TrimSpace(s)
}

// truncate cuts plain text wider than width columns to width columns,
// ending it with "…". It never cuts a character in two: not a wide rune,
// nor a cluster of runes shown as one (a flag, an emoji with its variation
// selector).
func truncate(s string, width int) string {
	return ansi.Truncate(s, width, "…")
}

// Writer returns a writer onto w, a stream of the terminal the console
// draws on (IO.Out or IO.Err), that takes the spinner off the screen while
// it writes and draws it again after a whole line: what a command prints
// itself, such as the gateway's notices or a cell's output, never lands on
// the spinner's line.
func (c *Console) Writer(w io.Writer) io.Writer { return &pausingWriter{c: c, w: w, atLineStart: true} }

type pausingWriter struct {
	c           *Console
	w           io.Writer
	atLineStart bool // the last byte written was '\n', or nothing was written
}

func (p *pausingWriter) Write(b []byte) (int, error) {
	c := p.c
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.cur
	c.stopSpinner()
	n, err := p.w.Write(b)
	if len(b) > 0 {
		p.atLineStart = b[len(b)-1] == '\n'
		if sameWriter(p.w, c.w) {
			c.atLineStart = p.atLineStart
			c.wroteAny = true
		}
	}
	if p.atLineStart {
		c.resume(cur)
	}
	return n, err
}

// resume draws a paused spinner again, if the terminal is at the start of
// a line.
func (c *Console) resume(s *spinState) {
	if s != nil && c.spin == nil {
		c.startSpinner(*s)
	}
}
