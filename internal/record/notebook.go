package record

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/analyst-dev/analyst/cell"
)

// The notebook's format: nbformat 4.5, whose cells carry ids.
const (
	nbFormat      = 4
	nbFormatMinor = 5
)

// nbCell is a cell of the notebook being recorded.
type nbCell struct {
	id      string
	kind    string // "markdown" or "code"
	source  string
	count   *int     // code cells: the execution count, nil when not run
	outputs []byte   // code cells: the outputs in nbformat form, a JSON array (see encodeOutputs)
	tags    []string // code cells: nbformat tags, such as raises-exception
}

type markdownCellJSON struct {
	ID       string         `json:"id"`
	CellType string         `json:"cell_type"`
	Metadata map[string]any `json:"metadata"`
	Source   string         `json:"source"`
}

type codeCellJSON struct {
	ID             string         `json:"id"`
	CellType       string         `json:"cell_type"`
	Metadata       map[string]any `json:"metadata"`
	ExecutionCount *int           `json:"execution_count"`
	Outputs        []any          `json:"outputs"`
	Source         string         `json:"source"`
}

type streamJSON struct {
	OutputType string `json:"output_type"`
	Name       string `json:"name"`
	Text       string `json:"text"`
}

type displayJSON struct {
	OutputType string         `json:"output_type"`
	Data       map[string]any `json:"data"`
	Metadata   map[string]any `json:"metadata"`
}

type executeResultJSON struct {
	OutputType     string         `json:"output_type"`
	ExecutionCount *int           `json:"execution_count"`
	Data           map[string]any `json:"data"`
	Metadata       map[string]any `json:"metadata"`
}

type errorOutputJSON struct {
	OutputType string   `json:"output_type"`
	Ename      string   `json:"ename"`
	Evalue     string   `json:"evalue"`
	Traceback  []string `json:"traceback"`
}

// nbMetadata is the notebook's metadata: a Python kernel, and analyst's
// version, models and start.
func nbMetadata(meta Meta) map[string]any {
	md := map[string]any{
		"kernelspec": map[string]any{
			"display_name": "Python 3 (ipykernel)",
			"language":     "python",
			"name":         "python3",
		},
		"language_info": map[string]any{"name": "python"},
	}
	an := map[string]any{}
	if meta.Version != "" {
		an["version"] = meta.Version
	}
	if len(meta.Models) > 0 {
		an["models"] = meta.Models
	}
	if !meta.Started.IsZero() {
		an["started"] = meta.Started
	}
	if len(an) > 0 {
		md["analyst"] = an
	}
	return md
}

// nbCellJSON is the cell in nbformat 4.5's shape.
func nbCellJSON(c nbCell) any {
	if c.kind != "code" {
		return markdownCellJSON{ID: c.id, CellType: c.kind, Metadata: map[string]any{}, Source: c.source}
	}
	md := map[string]any{}
	if len(c.tags) > 0 {
		md["tags"] = c.tags
	}
	return codeCellJSON{ID: c.id, CellType: "code", Metadata: md, ExecutionCount: c.count, Outputs: []any{}, Source: c.source}
}

// appendCell appends the cell in nbformat 4.5's shape, indented as
// indentJSON indents it, with prefix and indent. Its outputs, encoded
// already, are indented, not encoded again.
func appendCell(dst []byte, c nbCell, prefix, indent string) ([]byte, error) {
	b, err := marshal(nbCellJSON(c))
	if err != nil {
		return nil, err
	}
	if c.kind != "code" || len(c.outputs) == 0 {
		return indentJSON(dst, b, prefix, indent), nil
	}
	before, after := aroundOutputs(b)
	dst = slices.Grow(dst, len(b)+len(c.outputs)+len(c.outputs)/16)
	dst, depth := indentJSONAt(dst, before, prefix, indent, 0)
	dst, depth = indentJSONAt(dst, c.outputs, prefix, indent, depth)
	dst, _ = indentJSONAt(dst, after, prefix, indent, depth)
	return dst, nil
}

// nbOutput returns the output in the exact shape nbformat's schema asks
// for, or nil for an output type nbformat does not know.
func nbOutput(o cell.Output) any {
	orEmpty := func(m map[string]any) map[string]any {
		if m == nil {
			return map[string]any{}
		}
		return m
	}
	switch o.OutputType {
	case "stream":
		name := o.Name
		if name != "stderr" {
			name = "stdout"
		}
		return streamJSON{"stream", name, o.Text}
	case "display_data":
		return displayJSON{"display_data", orEmpty(o.Data), orEmpty(o.Metadata)}
	case "execute_result":
		return executeResultJSON{"execute_result", o.ExecutionCount, orEmpty(o.Data), orEmpty(o.Metadata)}
	case "error":
		tb := o.Traceback
		if tb == nil {
			tb = []string{}
		}
		return errorOutputJSON{"error", o.Ename, o.Evalue, tb}
	}
	return nil
}

// writeAtomic replaces dir/name with data: it writes a temporary file in dir
// and renames it, so readers see the old or the new file, never a part.
func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
