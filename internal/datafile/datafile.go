package datafile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxCheckedSize bounds the files whose content Check compares with the size
// they report: /proc and /sys files are small.
const maxCheckedSize = 1 << 20

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
