package jupyter_test

import (
	"context"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

// BenchmarkExecute runs a trivial cell on one kernel of a real server.
func BenchmarkExecute(b *testing.B) {
	_, s := newSession(b, jupyter.SessionOptions{})
	ctx := context.Background()
	run(b, s, "x = 0")
	b.ResetTimer()
	for b.Loop() {
		res, err := s.Execute(ctx, "x += 1")
		if err != nil || res.Status != "ok" {
			b.Fatalf("Execute: %+v, %v", res, err)
		}
	}
}
