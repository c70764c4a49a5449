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

// BenchmarkUpload uploads files of random bytes (64 and 512 MiB) and a
// 64 MiB CSV (examples/superstore.csv over and over, which compresses
// about 4:1) into a kernel of a real server (ANALYST_TEST_SERVER=
// server|kg3|kg2 picks it), reporting the process's peak RSS too: the file
// is never read into memory whole.
//
//	go test -run '^$' -bench Upload -benchtime 3x ./jupyter
func BenchmarkUpload(b *testing.B) {
	_, s := newSession(b, jupyter.SessionOptions{})
	ctx := context.Background()
	csv, err := os.ReadFile(filepath.Join("..", "examples", "superstore.csv"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bench := range []struct {
		name string
		size int64
		src  io.Reader
	}{
		{"random-64MiB", 64 << 20, rand.Reader},
		{"random-512MiB", 512 << 20, rand.Reader},
		{"csv-64MiB", 64 << 20, repeat(csv)},
	} {
		b.Run(bench.name, func(b *testing.B) {
			local := filepath.Join(b.TempDir(), "data.bin")
			f, err := os.Create(local)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyN(f, bench.src, bench.size); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(bench.size)
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

// repeat reads b over and over.
func repeat(b []byte) io.Reader {
	return &repeater{b: b}
}

type repeater struct {
	b   []byte
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}
