//go:build unix

package record

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

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
			user, sys := cpuTime()
			for i := range b.N {
				step(r, before+1+i)
			}
			// The wall time also holds the file system's waits. The user
			// CPU time is what the Recorder's own code spends; the system
			// time is the kernel's writing, which here grows with the
			// files' dirty pages whatever the Recorder does.
			user2, sys2 := cpuTime()
			b.ReportMetric(float64((user2-user).Microseconds())/1000/float64(b.N), "user-ms/op")
			b.ReportMetric(float64((sys2-sys).Microseconds())/1000/float64(b.N), "sys-ms/op")
		})
	}
}
