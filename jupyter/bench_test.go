package jupyter_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
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

// BenchmarkUpload uploads a 64 MiB and a 512 MiB file into a kernel of a
// real server (ANALYST_TEST_SERVER=server|kg3|kg2 picks it), reporting the
// process's peak RSS too: the file is never read into memory whole.
//
//	go test -run '^$' -bench Upload -benchtime 3x ./jupyter
func BenchmarkUpload(b *testing.B) {
	_, s := newSession(b, jupyter.SessionOptions{})
	ctx := context.Background()
	for _, size := range []int64{64 << 20, 512 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			local := filepath.Join(b.TempDir(), "data.bin")
			f, err := os.Create(local)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyN(f, rand.Reader, size); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				name := fmt.Sprintf("data-%d.bin", i)
				if err := s.Upload(ctx, local, name); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Remove(ctx, name)
				b.StartTimer()
			}
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
			}
		})
	}
}
