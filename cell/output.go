package cell

import (
	"strings"

	"github.com/analyst-dev/analyst/jupyter"
)

// Output is one output of a cell in nbformat 4 form, as the notebook and
// events.jsonl hold it: output_type is "stream" (name, text),
// "display_data" (data, metadata), "execute_result" (data, metadata,
// execution_count) or "error" (ename, evalue, traceback). DisplayID, when
// set, is the id under which a display_data could be updated; it is not
// part of nbformat.
type Output struct {
	OutputType     string         `json:"output_type"`
	Name           string         `json:"name,omitempty"`
	Text           string         `json:"text,omitempty"`
	Data           map[string]any `json:"data,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	ExecutionCount *int           `json:"execution_count,omitempty"`
	Ename          string         `json:"ename,omitempty"`
	Evalue         string         `json:"evalue,omitempty"`
	Traceback      []string       `json:"traceback,omitempty"`
	DisplayID      string         `json:"display_id,omitempty"`
}

// Outputs converts the cell's outputs to nbformat form, in order. An error
// output takes its name, value and traceback (with ANSI codes) from the
// result's Error; if the result has an Error but no output reports it, an
// error output is added at the end. Outputs is nil for a cell not run.
func (c Cell) Outputs() []Output {
	res := c.Result
	if res == nil {
		return nil
	}
	var outs []Output
	sawError := false
	for _, o := range res.Outputs {
		switch o.Type {
		case "stream":
			outs = append(outs, Output{OutputType: "stream", Name: o.Name, Text: o.Text})
		case "display_data", "execute_result":
			out := Output{OutputType: o.Type, Data: o.Data, Metadata: o.Metadata, DisplayID: o.DisplayID}
			if o.Type == "execute_result" {
				n := o.ExecutionCount
				out.ExecutionCount = &n
			}
			outs = append(outs, out)
		case "error":
			sawError = true
			outs = append(outs, errorOutput(res.Error, o.Text))
		}
	}
	if res.Error != nil && !sawError {
		outs = append(outs, errorOutput(res.Error, ""))
	}
	return outs
}

func errorOutput(e *jupyter.ExecError, text string) Output {
	if e == nil {
		return Output{OutputType: "error", Ename: "Error", Traceback: strings.Split(strings.TrimRight(text, "\n"), "\n")}
	}
	tb := e.Traceback
	if tb == nil {
		tb = []string{}
	}
	return Output{OutputType: "error", Ename: e.Name, Evalue: e.Value, Traceback: tb}
}

// resultOf rebuilds a kernel result from recorded nbformat outputs: the
// inverse of Outputs, so that a recorded cell renders as a live one did.
func resultOf(outs []Output) *jupyter.Result {
	res := &jupyter.Result{Outputs: make([]jupyter.Output, 0, len(outs))}
	for _, o := range outs {
		jo := jupyter.Output{Type: o.OutputType, Name: o.Name, Text: o.Text, Data: o.Data, Metadata: o.Metadata, DisplayID: o.DisplayID}
		if o.ExecutionCount != nil {
			jo.ExecutionCount = *o.ExecutionCount
		}
		if o.OutputType == "error" {
			res.Error = &jupyter.ExecError{Name: o.Ename, Value: o.Evalue, Traceback: o.Traceback}
			jo.Text = res.Error.PlainTraceback()
		}
		res.Outputs = append(res.Outputs, jo)
	}
	return res
}
