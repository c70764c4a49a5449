package console

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"
)

// spinnerFrames are drawn in turn, one per tick.
var spinnerFrames = [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// spinner animates a one-line status on a terminal until stopped. It redraws
// the line with a carriage return and clears it with spaces, so it writes no
// escape code unless its style has colour.
type spinner struct {
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	detail string // drawn after the label; see setDetail
}

// spinnerConfig says how a spinner looks and when it draws.
type spinnerConfig struct {
	w     io.Writer
	style lipgloss.Style
	label string
	now   func() time.Time
	// delay is how long to wait before the first frame; with 0 the first
	// frame is drawn before startSpinner returns.
	delay time.Duration
	// interval is the time between frames.
	interval time.Duration
	// start is when the wait began, for the elapsed time shown; now when
	// zero. A spinner paused and drawn again keeps its start.
	start time.Time
	// detail is drawn after the label until setDetail changes it.
	detail string
	// width caps the drawn line, in columns, so that it never wraps; 0
	// means no cap.
	width int
}

// startSpinner draws cfg.label after a spinning frame on cfg.w until Stop is
// called. Only one goroutine writes to cfg.w until then.
func startSpinner(cfg spinnerConfig) *spinner {
	s := &spinner{stop: make(chan struct{}), done: make(chan struct{}), detail: cfg.detail}
	start := cfg.start
	if start.IsZero() {
		start = cfg.now()
	}
	width := 0
	draw := func(i int) {
		text := spinnerFrames[i%len(spinnerFrames)] + " " + cfg.label
		if el := cfg.now().Sub(start); el >= time.Second {
			text += fmt.Sprintf(" (%s)", el.Truncate(time.Second))
		}
		s.mu.Lock()
		if s.detail != "" {
			text += " │ " + s.detail
		}
		s.mu.Unlock()
		if cfg.width > 0 && lipgloss.Width(text) > cfg.width {
			text = truncate(text, cfg.width)
		}
		w := lipgloss.Width(text)
		pad := max(width-w, 0)
		_, _ = io.WriteString(cfg.w, "\r"+cfg.style.Render(text)+strings.Repeat(" ", pad))
		width = w
	}
	i := 0
	if cfg.delay <= 0 {
		draw(i)
	}
	go func() {
		defer close(s.done)
		defer func() {
			if width > 0 {
				_, _ = io.WriteString(cfg.w, "\r"+strings.Repeat(" ", width)+"\r")
			}
		}()
		if cfg.delay > 0 {
			t := time.NewTimer(cfg.delay)
			defer t.Stop()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			draw(i)
		}
		tick := time.NewTicker(cfg.interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				i++
				draw(i)
			}
		}
	}()
	return s
}

// setDetail sets the text drawn after the label from the next frame on.
func (s *spinner) setDetail(d string) {
	s.mu.Lock()
	s.detail = d
	s.mu.Unlock()
}

// Stop ends the animation, clears the line and returns once the spinner's
// goroutine has finished writing.
func (s *spinner) Stop() {
	close(s.stop)
	<-s.done
}
