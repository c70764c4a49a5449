package jupyter

import (
	"regexp"
	"strings"
	"time"
)

// Result is what one cell produced.
type Result struct {
	// Outputs holds the cell's outputs in order. Consecutive stream chunks
	// of the same name are merged; update_display_data and clear_output have
	// been applied.
	Outputs []Output
	// Error is the Python exception the cell raised, if any. It is data,
	// not a Go error.
	Error *ExecError
	// ExecutionCount is the kernel's execution counter for the cell.
	ExecutionCount int
	// Status is the execute_reply status: "ok", "error" or "aborted". It is
	// empty if no reply arrived (the cell timed out, was cancelled or the
	// kernel died).
	Status string
	// Duration is the wall time from sending the request to the end.
	Duration time.Duration
	// TimedOut reports that the cell timeout expired: the kernel was
	// interrupted and the output so far is kept.
	TimedOut bool
	// Canceled reports that the caller's context was cancelled: the kernel
	// was interrupted and the output so far is kept.
	Canceled bool
	// DroppedBytes counts output bytes dropped past MaxOutputBytes.
	DroppedBytes int64
	// Reconnected reports that the connection to the kernel dropped during
	// the cell and was re-established with the same session: the server
	// replays what it held back, but output that was on the wire at the
	// moment of the drop may be missing.
	Reconnected bool
}

// Output is one output of a cell.
type Output struct {
	// Type is "stream", "display_data", "execute_result" or "error".
	Type string
	// Name is the stream's name, "stdout" or "stderr".
	Name string
	// Text is a stream's text, or an error's traceback without ANSI codes.
	Text string
	// Data is the MIME bundle exactly as the kernel sent it: image/png and
	// image/jpeg are base64 strings, application/json any JSON value.
	Data map[string]any
	// Metadata is the output's metadata, such as image sizes.
	Metadata map[string]any
	// ExecutionCount is an execute_result's execution counter.
	ExecutionCount int
	// DisplayID is the display id of a display_data that can be updated.
	DisplayID string
}

// ExecError is a Python exception raised by a cell.
type ExecError struct {
	Name      string   // the exception's class name, such as "ZeroDivisionError"
	Value     string   // the exception's message
	Traceback []string // formatted traceback lines, with ANSI colour codes
}

// Error returns "Name: Value", so an ExecError can be used as an error.
func (e *ExecError) Error() string {
	if e.Value == "" {
		return e.Name
	}
	return e.Name + ": " + e.Value
}

// PlainTraceback returns the traceback without ANSI codes, one line per
// element joined by newlines.
func (e *ExecError) PlainTraceback() string {
	return StripANSI(strings.Join(e.Traceback, "\n"))
}

// ansiRE matches ANSI escape sequences: CSI sequences such as colours and
// OSC sequences such as hyperlinks.
var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]`)

// StripANSI removes ANSI escape sequences from s.
func StripANSI(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	return ansiRE.ReplaceAllString(s, "")
}

// PlainText returns the output as plain text: a stream's text, a bundle's
// text/plain, or an error's traceback without ANSI codes.
func (o Output) PlainText() string {
	switch o.Type {
	case "stream":
		return o.Text
	case "error":
		return o.Text
	}
	if s, ok := o.Data["text/plain"].(string); ok {
		return s
	}
	return ""
}

// Text returns the plain text of all outputs in order, each ending with a
// newline, and the error's traceback without ANSI codes.
func (r *Result) Text() string {
	var b strings.Builder
	for _, o := range r.Outputs {
		t := o.PlainText()
		if t == "" {
			continue
		}
		b.WriteString(t)
		if !strings.HasSuffix(t, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
