package record

import (
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
)

var jsonStrings = []string{
	"",
	"plain ascii text that is longer than eight bytes",
	"row 0 value 0.000\nrow 1 value 0.370\n",
	"quote\" backslash\\ slash/ <html> & tab\t cr\r bs\b ff\f nul\x00 esc\x1b del\x7f",
	"café ☕ 😀 \u2028 \u2029 \ufffd",
	"bad utf-8 \xff\xfe and cut \xe2\x82",
	strings.Repeat("12345678", 3) + "\"" + strings.Repeat("abcdefgh", 2) + "\x1f",
}

func TestAppendString(t *testing.T) {
	for _, s := range jsonStrings {
		checkAppendString(t, s)
	}
}

// FuzzAppendString checks that appendString writes what marshal writes.
func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(checkAppendString)
}

func checkAppendString(t *testing.T, s string) {
	want, err := marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendString(nil, s); string(got) != string(want) {
		t.Errorf("appendString(%q) = %s, want %s", s, got, want)
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("row 12345 value 4567.890\n", 1<<20/25)
	b.SetBytes(int64(len(s)))
	var buf []byte
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}

// TestEncodeOutputs checks that the outputs encoded once for both files are
// what marshal writes for each: the cell_finished line and the notebook's
// cell.
func TestEncodeOutputs(t *testing.T) {
	n := 3
	outs := []cell.Output{
		{OutputType: "stream", Name: "stdout", Text: "row 1\n\"quoted\" <b>\u2028\xff\n"},
		{OutputType: "stream", Name: "stderr", Text: "warning\n"},
		{OutputType: "stream", Text: "no name"},
		{OutputType: "stream", Name: "stdout"},
		{OutputType: "stream", Name: "stdout", Text: "with a display id", DisplayID: "d"},
		{OutputType: "display_data", Data: map[string]any{"text/plain": "<Figure>", "image/png": "iVBORw0KGgo="}, Metadata: map[string]any{"image/png": map[string]any{"width": 640}}, DisplayID: "d1"},
		{OutputType: "execute_result", Data: map[string]any{"text/plain": "42"}, ExecutionCount: &n},
		{OutputType: "error", Ename: "ZeroDivisionError", Evalue: "division by zero", Traceback: []string{"\x1b[0;31mZeroDivisionError\x1b[0m"}},
		{OutputType: "unknown"},
	}
	t0 := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	var enc encodedOutputs // reused, as the Recorder reuses it
	for k := len(outs); k >= 0; k-- {
		outs := outs[:k]
		if err := enc.encode(outs); err != nil {
			t.Fatal(err)
		}
		e := cell.Finished{Agent: "executor", Cell: cell.Cell{Index: 1, Language: "python", Code: `print("outputs":[])`}}
		line, err := appendCellFinished([]byte("old"), e, t0, enc.events)
		if err != nil {
			t.Fatal(err)
		}
		rec := e.Record()
		rec.Outputs = append([]cell.Output{}, outs...)
		want, _ := marshal(cellFinishedJSON{header{TypeCellFinished, t0}, rec})
		if string(line) != "old"+string(want) {
			t.Errorf("%d outputs: cell_finished\n got %s\nwant %s", k, line, want)
		}
		c := nbCell{id: "cell-1", kind: "code", source: `"outputs":[]`, outputs: enc.notebook}
		got, err := appendCell(nil, c, "  ", " ")
		if err != nil {
			t.Fatal(err)
		}
		cj := nbCellJSON(c).(codeCellJSON)
		for _, o := range outs {
			if oj := nbOutput(o); oj != nil {
				cj.Outputs = append(cj.Outputs, oj)
			}
		}
		want, _ = marshal(cj)
		want = indentJSON(nil, want, "  ", " ")
		if string(got) != string(want) {
			t.Errorf("%d outputs: notebook cell\n got %s\nwant %s", k, got, want)
		}
	}
}
