package console

import (
	"io"

	"github.com/charmbracelet/lipgloss"
)

// Styles are every style the console uses, built for one stream. With the
// NoColor profile each style renders its text unchanged.
type Styles struct {
	// Planner, Writer and Executor colour each agent's name; User is for
	// the user's task and any agent the console does not know.
	Planner, Writer, Executor, User lipgloss.Style
	// Rule draws the lines around a turn's header.
	Rule lipgloss.Style
	// Dim is for secondary text: retries, notices, labels, box edges.
	Dim lipgloss.Style
	// Bold is for labels that must stand out, like "task:".
	Bold lipgloss.Style
	// Code is for source code shown by the console.
	Code lipgloss.Style
	// OK marks a cell that ran without error.
	OK lipgloss.Style
	// Warning is for warnings and statuses the user should look at
	// (timeouts, interruptions, skipped cells).
	Warning lipgloss.Style
	// Error is for errors: Python exceptions, failed cells, a failed run.
	Error lipgloss.Style
}

// NewStyles builds the styles for the stream r renders to.
func NewStyles(r *lipgloss.Renderer) Styles {
	base := r.NewStyle()
	return Styles{
		Planner:  base.Foreground(lipgloss.Color("12")).Bold(true),
		Writer:   base.Foreground(lipgloss.Color("13")).Bold(true),
		Executor: base.Foreground(lipgloss.Color("10")).Bold(true),
		User:     base.Bold(true),
		Rule:     base.Faint(true),
		Dim:      base.Faint(true),
		Bold:     base.Bold(true),
		Code:     base.Foreground(lipgloss.Color("14")),
		OK:       base.Foreground(lipgloss.Color("2")),
		Warning:  base.Foreground(lipgloss.Color("3")),
		Error:    base.Foreground(lipgloss.Color("9")),
	}
}

// Agent returns the style of the agent with the user-facing name.
func (s Styles) Agent(name string) lipgloss.Style {
	switch name {
	case "planner":
		return s.Planner
	case "writer":
		return s.Writer
	case "executor":
		return s.Executor
	}
	return s.User
}

// Status returns the style of a cell status as given by team.Cell.Status.
func (s Styles) Status(status string) lipgloss.Style {
	switch status {
	case "ok":
		return s.OK
	case "error", "failed":
		return s.Error
	}
	return s.Warning
}

// newRenderer returns a lipgloss renderer for w with the colour profile p
// set, so that lipgloss never probes the terminal itself.
func newRenderer(w io.Writer, p ColorProfile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	r.SetColorProfile(p.termenv())
	return r
}
