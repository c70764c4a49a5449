package replay

import (
	"testing"

	"github.com/analyst-dev/analyst/cell"
)

func TestCompare(t *testing.T) {
	png := map[string]any{"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}
	recorded := []cell.Output{
		{OutputType: "stream", Name: "stdout", Text: "West: 733599.48\n"},
		{OutputType: "stream", Name: "stdout", Text: "East: 594113.07  \n"},
		{OutputType: "display_data", Data: png},
		{OutputType: "execute_result", Data: map[string]any{"text/plain": "42"}},
	}
	tests := []struct {
		name  string
		now   []cell.Output
		match bool
		diff  string
	}{
		{"same text split differently, trailing blanks, other image bytes", []cell.Output{
			{OutputType: "stream", Name: "stdout", Text: "West: 733599.48\nEast: 594113.07\n"},
			{OutputType: "display_data", Data: map[string]any{"image/png": "AAAA"}},
			{OutputType: "execute_result", Data: map[string]any{"text/plain": "\x1b[0m42"}},
		}, true, ""},
		{"a number changed", []cell.Output{
			{OutputType: "stream", Name: "stdout", Text: "West: 733599.49\nEast: 594113.07\n"},
			{OutputType: "display_data", Data: png},
			{OutputType: "execute_result", Data: map[string]any{"text/plain": "42"}},
		}, false, `line 1: recorded "West: 733599.48", now "West: 733599.49"`},
		{"the image is gone", []cell.Output{
			{OutputType: "stream", Name: "stdout", Text: "West: 733599.48\nEast: 594113.07\n"},
			{OutputType: "execute_result", Data: map[string]any{"text/plain": "42"}},
		}, false, `line 3: recorded "[image/png]", now "42"`},
		{"an error now", []cell.Output{
			{OutputType: "error", Ename: "KeyError", Evalue: "'Region'"},
		}, false, `line 1: recorded "West: 733599.48", now "KeyError: 'Region'"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			match, diff := Compare(recordedCell(recorded), recordedCell(tt.now))
			if match != tt.match || diff != tt.diff {
				t.Errorf("Compare = %v, %q; want %v, %q", match, diff, tt.match, tt.diff)
			}
		})
	}
}

// recordedCell is a cell recorded with the given outputs.
func recordedCell(outs []cell.Output) cell.Cell {
	return cell.Record{Index: 1, Status: cell.OK, Outputs: outs}.Finished().Cell
}
