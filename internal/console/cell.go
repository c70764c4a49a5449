package console

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/termsafe"
)

// renderCell renders a finished cell as the lines of a box: a header with the
// cell's index, execution count, status and duration, then its output, capped
// to c.maxLines.
func (c *Console) renderCell(cl cell.Cell) []string {
	index, count, status, took := cl.Header()
	statusText := c.st.Status(string(status)).Render(string(status))
	if count > 0 {
		statusText = fmt.Sprintf("[%d] ", count) + statusText
	}
	head := []string{index, statusText}
	if took > 0 {
		head = append(head, human.Duration(took))
	}
	sep := c.st.Dim.Render(" · ")
	out := []string{c.st.Dim.Render("┌ ") + strings.Join(head, sep)}

	body := c.cap(cl.HeadTail(c.maxLines))
	if len(body) == 0 {
		body = append(body, cell.Line{Kind: cell.Dim, Text: "(no output)"})
	}
	edge := c.st.Dim.Render("│")
	for _, l := range body {
		text := c.clip(termsafe.String(l.Text))
		switch l.Kind {
		case cell.Dim:
			text = c.st.Dim.Render(text)
		case cell.Fault:
			text = c.st.Error.Render(text)
		}
		if text == "" {
			out = append(out, edge)
		} else {
			out = append(out, edge+" "+text)
		}
	}
	return append(out, c.st.Dim.Render("└─"))
}

// cap joins the first and last lines of a body of more than c.maxLines
// (see cell.Cell.HeadTail) with a line saying how many were left out.
func (c *Console) cap(head, tail []cell.Line, omitted int) []cell.Line {
	if omitted == 0 {
		return append(head, tail...)
	}
	out := slices.Clip(head)
	out = append(out, cell.Line{Kind: cell.Dim, Text: fmt.Sprintf("… %d lines omitted …", omitted)})
	return append(out, tail...)
}

// clip shortens a line longer than c.maxLineWidth characters.
func (c *Console) clip(s string) string {
	if c.maxLineWidth <= 0 || utf8.RuneCountInString(s) <= c.maxLineWidth {
		return s
	}
	runes := []rune(s)
	return fmt.Sprintf("%s… (%d more characters)", string(runes[:c.maxLineWidth]), len(runes)-c.maxLineWidth)
}
