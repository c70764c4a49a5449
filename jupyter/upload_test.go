package jupyter_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// kernelDir makes a new directory under the directory in (the kernel's
// working directory when "") the kernel's working directory and returns
// its path; the servers run here, so the test looks into it directly.
func kernelDir(t *testing.T, s *jupyter.Session, in string) string {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	dir, err := s.Chdir(t.Context(), filepath.Join(in, fmt.Sprintf("upload-test-%x", b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// randomFile writes n random bytes to a new local file.
func randomFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "local.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// TestUploadProgress checks that progress comes after each chunk the kernel
// wrote, and that the file arrives whole, with nothing else left.
func TestUploadProgress(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	dir := kernelDir(t, s, "")
	const chunk = jupyter.UploadChunk
	size := 3*chunk + 5
	local, data := randomFile(t, size)

	var got []jupyter.UploadProgress
	err := s.UploadWith(t.Context(), local, "p.bin", jupyter.UploadOptions{
		Progress: func(p jupyter.UploadProgress) { got = append(got, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var done []int64
	for i, p := range got {
		done = append(done, p.Done)
		if p.Name != "p.bin" || p.Total != int64(size) || (i > 0 && p.Elapsed < got[i-1].Elapsed) {
			t.Errorf("progress %d = %+v", i, p)
		}
	}
	if want := []int64{chunk, 2 * chunk, 3 * chunk, int64(size)}; !reflect.DeepEqual(done, want) {
		t.Errorf("progress at %v bytes, want %v", done, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "p.bin")); err != nil || !bytes.Equal(b, data) {
		t.Errorf("the kernel's file differs (%d bytes, %v)", len(b), err)
	}
	if names := listDir(t, dir); !reflect.DeepEqual(names, []string{"p.bin"}) {
		t.Errorf("kernel directory holds %q", names)
	}
}

// TestUploadCompressible uploads text, which goes compressed, whole.
func TestUploadCompressible(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	dir := kernelDir(t, s, "")
	csv, err := os.ReadFile(filepath.Join("..", "examples", "superstore.csv"))
	if err != nil {
		t.Fatal(err)
	}
	data := append(csv, csv...)
	local := filepath.Join(t.TempDir(), "superstore.csv")
	if err := os.WriteFile(local, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Upload(t.Context(), local, "superstore.csv"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "superstore.csv")); err != nil || !bytes.Equal(b, data) {
		t.Errorf("the kernel's file differs (%d bytes of %d, %v)", len(b), len(data), err)
	}
}

// TestUploadEmptyFile uploads a file of no bytes.
func TestUploadEmptyFile(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	dir := kernelDir(t, s, "")
	local, _ := randomFile(t, 0)
	var got []int64
	err := s.UploadWith(t.Context(), local, "empty.csv", jupyter.UploadOptions{
		Progress: func(p jupyter.UploadProgress) { got = append(got, p.Done, p.Total) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []int64{0, 0}) {
		t.Errorf("progress %v, want one report of 0 of 0", got)
	}
	if st, err := os.Stat(filepath.Join(dir, "empty.csv")); err != nil || st.Size() != 0 {
		t.Errorf("kernel's file: %v, %v", st, err)
	}
}

// TestUploadFailures checks what is left after an upload that ends early:
// nothing, and the kernel goes on working.
func TestUploadFailures(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	root := kernelDir(t, s, "")
	tests := []struct {
		name string
		// midway runs after the kernel wrote the first chunk.
		midway  func(t *testing.T, dir, local string, cancel context.CancelFunc)
		check   func(t *testing.T, err error)
		left    []string
		content string // of the kernel's u.bin, when left
	}{{
		name:   "cancelled",
		midway: func(t *testing.T, dir, local string, cancel context.CancelFunc) { cancel() },
		check: func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		},
		left: []string{},
	}, {
		name: "local file changed",
		midway: func(t *testing.T, dir, local string, cancel context.CancelFunc) {
			f, err := os.OpenFile(local, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("changed"), 11*jupyter.UploadChunk); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, err error) {
			if err == nil || !strings.HasPrefix(err.Error(), "upload u.bin: verify: in the kernel: sha256 mismatch: got ") {
				t.Errorf("error %v, want a sha256 mismatch", err)
			}
		},
		left: []string{},
	}, {
		name: "name taken meanwhile",
		midway: func(t *testing.T, dir, local string, cancel context.CancelFunc) {
			if err := os.WriteFile(filepath.Join(dir, "u.bin"), []byte("theirs"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, err error) {
			var fe *jupyter.FileExistsError
			if !errors.As(err, &fe) || fe.Name != "u.bin" {
				t.Errorf("error %v, want a FileExistsError", err)
			}
		},
		left:    []string{"u.bin"},
		content: "theirs",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := kernelDir(t, s, root)
			// More chunks than are sent before the first is written.
			local, _ := randomFile(t, 12*jupyter.UploadChunk)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			reports := 0
			err := s.UploadWith(ctx, local, "u.bin", jupyter.UploadOptions{Progress: func(jupyter.UploadProgress) {
				if reports++; reports == 1 {
					tt.midway(t, dir, local, cancel)
				}
			}})
			tt.check(t, err)
			if names := listDir(t, dir); !reflect.DeepEqual(names, tt.left) {
				t.Errorf("kernel directory holds %q, want %q", names, tt.left)
			}
			if tt.content != "" {
				if b, _ := os.ReadFile(filepath.Join(dir, "u.bin")); string(b) != tt.content {
					t.Errorf("the kernel's u.bin holds %q, want %q", b, tt.content)
				}
			}
			if res := run(t, s, "print(6 * 7)"); res.Text() != "42\n" {
				t.Errorf("after the failed upload a cell printed %q", res.Text())
			}
		})
	}
}

// TestUploadRemovesStaleTemps kills an upload's client midway: its kernel
// holds the temporary file's lock, so the next upload into the directory
// leaves it (it cannot be told from a live one) until that kernel is gone,
// and then removes it and says so. Temporary files nobody holds, or held
// but unwritten for long, go at once; other names stay.
func TestUploadRemovesStaleTemps(t *testing.T) {
	c, b := newSession(t, jupyter.SessionOptions{})
	ctx := t.Context()
	dir := kernelDir(t, b, "")

	// The killed run's kernel.
	k, err := c.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.DeleteKernel(ctx, k.ID); err != nil && !errors.Is(err, jupyter.ErrKernelNotFound) {
			t.Errorf("delete kernel: %v", err)
		}
	})
	a, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Chdir(ctx, dir); err != nil {
		t.Fatal(err)
	}
	local, _ := randomFile(t, 4*jupyter.UploadChunk)
	err = a.UploadWith(ctx, local, "big.bin", jupyter.UploadOptions{Progress: func(jupyter.UploadProgress) { a.Close() }})
	if err == nil {
		t.Fatal("an upload whose session closed midway succeeded")
	}
	var killed string
	for _, n := range listDir(t, dir) {
		if strings.HasPrefix(n, ".big.bin.upload-") {
			killed = n
		}
	}
	if killed == "" {
		t.Fatalf("the killed upload left no temporary file: %q", listDir(t, dir))
	}

	// Temporary files of other kinds: one nobody holds, one held and
	// written just now, one held but unwritten for 20 minutes; and names
	// that are not analyst's.
	for _, n := range []string{".old.csv.upload-0123abcd", ".live.csv.upload-4567cdef", ".hung.csv.upload-89abcdef", ".x.upload-nothex12", "notes.upload-0123abcd"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, ".d.upload-0123abcd"), 0o700); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-20 * time.Minute)
	if err := os.Chtimes(filepath.Join(dir, ".hung.csv.upload-89abcdef"), long, long); err != nil {
		t.Fatal(err)
	}
	hold := run(t, b, `import fcntl
_held = [open(n, 'rb') for n in ('.live.csv.upload-4567cdef', '.hung.csv.upload-89abcdef')]
for _f in _held:
    fcntl.flock(_f, fcntl.LOCK_EX)`)
	if hold.Error != nil {
		t.Fatal(hold.Error)
	}

	upload := func(name string) []string {
		t.Helper()
		var notices []string
		src := filepath.Join(t.TempDir(), name)
		os.WriteFile(src, []byte("a,b\n1,2\n"), 0o600)
		if err := b.UploadWith(ctx, src, name, jupyter.UploadOptions{Notice: func(m string) { notices = append(notices, m) }}); err != nil {
			t.Fatal(err)
		}
		return notices
	}
	want := []string{"removed 2 temporary file(s) that interrupted uploads left in the kernel's directory: .hung.csv.upload-89abcdef, .old.csv.upload-0123abcd"}
	if got := upload("one.csv"); !reflect.DeepEqual(got, want) {
		t.Errorf("notices %q, want %q", got, want)
	}
	if !slices.Contains(listDir(t, dir), killed) {
		t.Errorf("the temporary file of a living kernel went: %q", listDir(t, dir))
	}

	if err := c.DeleteKernel(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	want = []string{"removed 1 temporary file(s) that interrupted uploads left in the kernel's directory: " + killed}
	if got := upload("two.csv"); !reflect.DeepEqual(got, want) {
		t.Errorf("after the kernel went, notices %q, want %q", got, want)
	}
	left := []string{".d.upload-0123abcd", ".live.csv.upload-4567cdef", ".x.upload-nothex12", "notes.upload-0123abcd", "one.csv", "two.csv"}
	if got := listDir(t, dir); !reflect.DeepEqual(got, left) {
		t.Errorf("kernel directory holds %q, want %q", got, left)
	}
}
