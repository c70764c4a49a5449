package datafile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/analyst-dev/analyst/internal/human"
)

// maxCheckedSize bounds the files whose content Check compares with the size
// they report: /proc and /sys files are small.
const maxCheckedSize = 1 << 20

// ErrDirectory is Usable's error for a directory: each input words it
// with what to do instead ("pass its files one by one").
var ErrDirectory = errors.New("a directory")

// An AccessError is Usable's error for a file that cannot be reached or
// opened. It reads as human.PathProblem words its cause: "no such file",
// "permission denied".
type AccessError struct{ Err error }

func (e *AccessError) Error() string { return human.PathProblem(e.Err) }

func (e *AccessError) Unwrap() error { return e.Err }

// Usable reports why the file at path cannot be sent as a data file, or
// nil: an *AccessError where it cannot be reached or opened, ErrDirectory,
// or what Check says of it. The error reads well after "PATH: ".
func Usable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return &AccessError{Err: err}
	}
	if fi.IsDir() {
		return ErrDirectory
	}
	if err := Check(path, fi); err != nil {
		return err
	}
	// Check refused what could block an open.
	f, err := os.Open(path)
	if err != nil {
		return &AccessError{Err: err}
	}
	f.Close()
	return nil
}

// Check reports why the file at path, whose os.Stat is fi, cannot be sent as
// a data file, or nil. The error reads well after "PATH: ". It opens nothing that could block: pipes and devices
// are refused from fi alone.
func Check(path string, fi fs.FileInfo) error {
	if kind := fileKind(fi.Mode()); kind != "" {
		return fmt.Errorf("%s, not a regular file: copy its content to a file first", kind)
	}
	if name := filepath.Base(path); strings.ContainsAny(name, `\`) {
		return fmt.Errorf("the name %q holds a backslash, which the kernel's side takes for a folder: rename the file", name)
	}
	if fi.Size() > maxCheckedSize {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(f, fi.Size()+1))
	if err != nil {
		return err
	}
	if n != fi.Size() {
		// /proc and /sys files say they hold 0 or 4096 bytes, whatever
		// they hold.
		return fmt.Errorf("its size says %d bytes but it holds %d (a /proc or /sys file?): copy its content to a file first", fi.Size(), n)
	}
	return nil
}

// fileKind names what a file that is not a regular file is, or "".
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
