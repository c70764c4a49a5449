package record

import (
	"fmt"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// BenchmarkRecordCell measures recording one more step (a planner message,
// a cell of 1 MB output) into a run that already holds `before` such
// steps: the cost must not grow with the run.
//
//	go test -run '^$' -bench RecordCell -benchmem ./internal/record
func BenchmarkRecordCell(b *testing.B) {
	big := strings.Repeat("0123456789abcdef\n", 1<<20/17)
	step := func(r *Recorder, i int) {
		code := fmt.Sprintf("print(%d)", i)
		r.Observe(team.MessageDone{Message: team.Message{Agent: "planner", Content: fmt.Sprintf("Step %d", i)}})
		r.Observe(cell.Started{Agent: "executor", Index: i, Language: "python", Code: code})
		r.Observe(cell.Finished{Agent: "executor", Cell: cell.Cell{Index: i, Language: "python", Code: code, Result: &jupyter.Result{
			Status: "ok", ExecutionCount: i, Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: big}},
		}}})
	}
	for _, before := range []int{1, 10, 40} {
		b.Run(fmt.Sprintf("after-%d", before), func(b *testing.B) {
			r, err := New(b.TempDir(), Meta{Task: "t", StepAgent: "planner"})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			r.Observe(team.RunStarted{Task: "t"})
			for i := 1; i <= before; i++ {
				step(r, i)
			}
			b.SetBytes(int64(len(big)))
			b.ResetTimer()
			for i := range b.N {
				step(r, before+1+i)
			}
		})
	}
}
