package console

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/team"
)

// Board shows one live status line per task under way on IO.Err when it is
// a terminal, redrawn in place every second; lines printed with Println go
// above it. On anything else it draws nothing and Println just prints.
// Its methods are safe for concurrent use.
type Board struct {
	io       *IO
	st       Styles
	now      func() time.Time
	interval time.Duration

	mu     sync.Mutex
	tasks  []*boardTask
	drawn  int // lines of the board on the screen
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

type boardTask struct {
	name, status string
	start        time.Time
}

// NewBoard returns a Board drawing on s.Err.
func NewBoard(s *IO) *Board {
	return &Board{io: s, st: s.ErrStyles(), now: time.Now, interval: time.Second}
}

// Set shows status on the line of the task name, adding the line if the
// task has none.
func (b *Board) Set(name, status string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i := b.find(name); i >= 0 {
		b.tasks[i].status = status
	} else {
		b.tasks = append(b.tasks, &boardTask{name: name, status: status, start: b.now()})
	}
	b.redraw()
	b.animate()
}

// Remove takes the task's line away.
func (b *Board) Remove(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i := b.find(name); i >= 0 {
		b.tasks = slices.Delete(b.tasks, i, i+1)
	}
	b.redraw()
}

// Println prints line above the board, on IO.Err.
func (b *Board) Println(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.erase()
	fmt.Fprintln(b.io.Err, termsafe.Colored(line))
	b.draw()
}

// Close takes the board off the screen and stops redrawing it.
func (b *Board) Close() {
	b.mu.Lock()
	b.closed = true
	b.erase()
	stop, done := b.stop, b.done
	b.stop = nil
	b.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (b *Board) find(name string) int {
	return slices.IndexFunc(b.tasks, func(t *boardTask) bool { return t.name == name })
}

// animate starts the redrawing of the elapsed times, once.
func (b *Board) animate() {
	if b.stop != nil || b.closed || !b.io.ErrTTY() {
		return
	}
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(b.interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				b.mu.Lock()
				b.redraw()
				b.mu.Unlock()
			}
		}
	}(b.stop, b.done)
}

func (b *Board) redraw() {
	b.erase()
	b.draw()
}

// erase moves the cursor up to the board's first line and clears the
// screen from there down.
func (b *Board) erase() {
	if b.drawn == 0 {
		return
	}
	_, _ = fmt.Fprintf(b.io.Err, "\x1b[%dF\x1b[J", b.drawn)
	b.drawn = 0
}

// draw writes a line per task, each ending the line, on a terminal.
func (b *Board) draw() {
	if b.closed || !b.io.ErrTTY() {
		return
	}
	now := b.now()
	for _, t := range b.tasks {
		text := fmt.Sprintf("▸ %s  %s  %s", termsafe.Line(t.name), termsafe.Line(t.status), now.Sub(t.start).Truncate(time.Second))
		if lipgloss.Width(text) > statusWidth {
			text = truncate(text, statusWidth)
		}
		_, _ = io.WriteString(b.io.Err, b.st.Dim.Render(text)+"\n")
		b.drawn++
	}
}

// Observer returns an observer of the run of task name that keeps the
// task's line saying what the run is doing: which turn, which agent, which
// cell.
func (b *Board) Observer(name string) team.Observer {
	return &boardObserver{b: b, name: name}
}

type boardObserver struct {
	b    *Board
	name string
	turn int
}

func (o *boardObserver) Observe(e team.Event) {
	switch e := e.(type) {
	case team.RunStarted:
		o.b.Set(o.name, "started")
	case team.TurnStarted:
		o.turn = e.Turn
		agent := DisplayName(e.Agent)
		if agent == "executor" {
			o.b.Set(o.name, fmt.Sprintf("turn %d: executor", e.Turn))
		} else {
			o.b.Set(o.name, fmt.Sprintf("turn %d: %s is thinking", e.Turn, agent))
		}
	case cell.Started:
		o.b.Set(o.name, fmt.Sprintf("turn %d: running cell %d", o.turn, e.Index))
	}
}
