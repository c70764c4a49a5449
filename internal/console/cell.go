package console

import (
	"encoding/base64"
	"fmt"
	"image"
	_ "image/gif" // register decoders for image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// imageTypes are the image MIME types a display may carry, in order of
// preference (as jupyter.Output.Image has it) when the saved figure's name
// does not say which was kept.
var imageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/svg+xml"}

// imageExt maps a figure file's extension to its MIME type.
var imageExt = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".svg":  "image/svg+xml",
	".gif":  "image/gif",
}

// lineKind says how a line of a cell's box is styled.
type lineKind int

const (
	plainLine lineKind = iota
	dimLine
	errorLine
)

type boxLine struct {
	kind lineKind
	text string
}

// renderCell renders a finished cell as the lines of a box: a header with the
// cell's index, execution count, status and duration, then its output, capped
// to c.maxLines.
func (c *Console) renderCell(cell team.Cell) []string {
	status := cell.Status()
	head := []string{fmt.Sprintf("cell %d", cell.Index)}
	statusText := c.st.Status(status).Render(status)
	r := cell.Result
	if r != nil && r.ExecutionCount > 0 {
		statusText = fmt.Sprintf("[%d] ", r.ExecutionCount) + statusText
	}
	head = append(head, statusText)
	if r != nil && r.Duration > 0 {
		head = append(head, formatDuration(r.Duration))
	}
	sep := c.st.Dim.Render(" · ")
	out := []string{c.st.Dim.Render("┌ ") + strings.Join(head, sep)}

	body := c.cap(c.cellBody(cell))
	if r != nil && r.DroppedBytes > 0 {
		body = append(body, boxLine{dimLine, fmt.Sprintf("… %d bytes dropped", r.DroppedBytes)})
	}
	if len(body) == 0 {
		body = append(body, boxLine{dimLine, "(no output)"})
	}
	edge := c.st.Dim.Render("│")
	for _, l := range body {
		text := c.clip(l.text)
		switch l.kind {
		case dimLine:
			text = c.st.Dim.Render(text)
		case errorLine:
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

// cellBody is the cell's output, line by line, before capping.
func (c *Console) cellBody(cell team.Cell) []boxLine {
	var lines []boxLine
	add := func(kind lineKind, text string) {
		for _, l := range splitLines(text) {
			lines = append(lines, boxLine{kind, l})
		}
	}
	if cell.Skipped != "" {
		add(dimLine, cell.Skipped)
	}
	if cell.Err != nil {
		add(errorLine, cell.Err.Error())
	}
	r := cell.Result
	if r == nil {
		return lines
	}

	// Kernels split streams at arbitrary points: join consecutive chunks of
	// one stream before splitting them into lines.
	var stream strings.Builder
	streamName := ""
	flush := func() {
		if stream.Len() > 0 {
			add(plainLine, collapseCR(jupyter.StripANSI(stream.String())))
			stream.Reset()
		}
	}
	figure := 0
	for _, o := range r.Outputs {
		if o.Type == "stream" {
			if o.Name != streamName {
				flush()
				streamName = o.Name
			}
			stream.WriteString(o.Text)
			continue
		}
		flush()
		streamName = ""
		switch o.Type {
		case "display_data", "execute_result", "update_display_data":
			if mime, ok := pickImage(o.Data, cell.Figures, figure); ok {
				name := ""
				if figure < len(cell.Figures) {
					name = cell.Figures[figure]
				}
				figure++
				add(dimLine, imageLine(mime, o.Data[mime], name))
				continue
			}
			if text, ok := o.Data["text/plain"]; ok {
				add(plainLine, jupyter.StripANSI(mimeText(text)))
				continue
			}
			if types := mimeTypes(o.Data); len(types) > 0 {
				add(dimLine, "["+strings.Join(types, ", ")+"]")
			}
		case "error":
			if r.Error == nil && o.Text != "" {
				add(errorLine, jupyter.StripANSI(o.Text))
			}
		}
	}
	flush()

	if e := r.Error; e != nil {
		summary := e.Name + ": " + e.Value
		tb := strings.TrimRight(e.PlainTraceback(), "\n")
		if tb != "" {
			add(errorLine, tb)
		}
		if last := lastLine(tb); strings.TrimSpace(last) != strings.TrimSpace(summary) {
			add(errorLine, summary)
		}
	}
	return lines
}

// cap keeps the first and last lines of body when it has more than
// c.maxLines, with a line saying how many were left out.
func (c *Console) cap(body []boxLine) []boxLine {
	if c.maxLines <= 0 || len(body) <= c.maxLines {
		return body
	}
	head := c.maxLines / 2
	tail := c.maxLines - head
	omitted := len(body) - head - tail
	out := slices.Clip(body[:head])
	out = append(out, boxLine{dimLine, fmt.Sprintf("… %d lines omitted …", omitted)})
	return append(out, body[len(body)-tail:]...)
}

// clip shortens a line longer than c.maxLineWidth characters.
func (c *Console) clip(s string) string {
	if c.maxLineWidth <= 0 || utf8.RuneCountInString(s) <= c.maxLineWidth {
		return s
	}
	runes := []rune(s)
	return fmt.Sprintf("%s… (%d more characters)", string(runes[:c.maxLineWidth]), len(runes)-c.maxLineWidth)
}

// pickImage returns the image MIME type of a display bundle that was saved
// as figures[i]: the one its file extension names, or else the first of
// imageTypes present.
func pickImage(data map[string]any, figures []string, i int) (string, bool) {
	if i < len(figures) {
		if mime, ok := imageExt[strings.ToLower(path.Ext(figures[i]))]; ok {
			if _, ok := data[mime]; ok {
				return mime, true
			}
		}
	}
	for _, mime := range imageTypes {
		if _, ok := data[mime]; ok {
			return mime, true
		}
	}
	return "", false
}

// imageLine describes an image: "[image/png 640x480 saved as figure-3.png]".
// The size comes from the image's header; SVG images have none.
func imageLine(mime string, data any, name string) string {
	desc := mime
	if mime != "image/svg+xml" {
		// Notebooks may wrap base64 in lines; the header is all DecodeConfig reads.
		b64 := strings.Join(strings.Fields(mimeText(data)), "")
		dec := base64.NewDecoder(base64.StdEncoding, strings.NewReader(b64))
		if cfg, _, err := image.DecodeConfig(dec); err == nil {
			desc += fmt.Sprintf(" %dx%d", cfg.Width, cfg.Height)
		}
	}
	if name != "" {
		desc += " saved as " + name
	}
	return "[" + desc + "]"
}

// mimeText returns a MIME bundle value as text: Jupyter sends strings, and
// notebooks sometimes store lists of lines.
func mimeText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []string:
		return strings.Join(v, "")
	case []any:
		var b strings.Builder
		for _, s := range v {
			if s, ok := s.(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return fmt.Sprint(v)
}

func mimeTypes(data map[string]any) []string {
	types := make([]string, 0, len(data))
	for k := range data {
		types = append(types, k)
	}
	slices.Sort(types)
	return types
}

// collapseCR keeps, on each line, only the text after the last carriage
// return, as a terminal would show a progress bar that redraws itself.
func collapseCR(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, "\r")
		lines[i] = l
		if j := strings.LastIndex(l, "\r"); j >= 0 {
			lines[i] = l[j+1:]
		}
	}
	return strings.Join(lines, "\n")
}

// splitLines splits s into lines, without an empty last line for a final
// newline.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
