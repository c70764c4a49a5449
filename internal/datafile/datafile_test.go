//go:build unix

package datafile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/analyst-dev/analyst/internal/datafile"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "orders.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "sales.csv")
	os.WriteFile(plain, []byte("a,b\n1,2\n"), 0o644)
	backslash := filepath.Join(dir, `q1\sales.csv`)
	os.WriteFile(backslash, []byte("a\n"), 0o644)
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	tests := []struct {
		path, want string
	}{
		{plain, ""},
		{empty, ""},
		{fifo, "a named pipe, not a regular file: copy its content to a file first"},
		{"/dev/null", "a device, not a regular file: copy its content to a file first"},
		{"/proc/self/status", "its size says 0 bytes but it holds "},
		{backslash, `the name "q1\\sales.csv" holds a backslash, which the kernel's side takes for a folder: rename the file`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			fi, err := os.Stat(tt.path)
			if err != nil {
				t.Skip(err) // no /proc here
			}
			err = datafile.Check(tt.path, fi)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check = %v, want nil", err)
			case tt.want != "" && (err == nil || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want):
				t.Errorf("Check = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestUsable(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "sales.csv")
	os.WriteFile(plain, []byte("a,b\n1,2\n"), 0o644)
	fifo := filepath.Join(dir, "orders.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "gone.csv")

	if err := datafile.Usable(plain); err != nil {
		t.Errorf("Usable(plain) = %v, want nil", err)
	}
	if err := datafile.Usable(dir); err != datafile.ErrDirectory {
		t.Errorf("Usable(dir) = %v, want ErrDirectory", err)
	}
	var access *datafile.AccessError
	if err := datafile.Usable(missing); !errors.As(err, &access) || !errors.Is(err, fs.ErrNotExist) || err.Error() != "no such file" {
		t.Errorf("Usable(missing) = %#v, want an *AccessError reading %q", err, "no such file")
	}
	want := "a named pipe, not a regular file: copy its content to a file first"
	if err := datafile.Usable(fifo); err == nil || err.Error() != want || errors.As(err, &access) {
		t.Errorf("Usable(fifo) = %v, want %q", err, want)
	}
}
