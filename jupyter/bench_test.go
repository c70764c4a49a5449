package jupyter_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
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

// BenchmarkUpload uploads a 64 MiB file into a kernel of a real server
// (ANALYST_TEST_SERVER=server|kg3|kg2 picks it):
//
//	go test -run '^$' -bench Upload -benchtime 3x ./jupyter
func BenchmarkUpload(b *testing.B) {
	_, s := newSession(b, jupyter.SessionOptions{})
	ctx := context.Background()
	local := filepath.Join(b.TempDir(), "data.bin")
	data := make([]byte, 64<<20)
	rand.Read(data)
	if err := os.WriteFile(local, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("data-%d.bin", i)
		if err := s.Upload(ctx, local, name); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Remove(ctx, name)
		b.StartTimer()
	}
}
