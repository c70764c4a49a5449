package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/analyst-dev/analyst/internal/proc"
)

// LockFile is the file that marks a records directory as in use by a
// process, holding its pid.
const LockFile = ".analyst.lock"

// noFollow makes an open fail on a symbolic link: records are written into
// the directory itself, never through a link placed there.
const noFollow = syscall.O_NOFOLLOW

// ErrLocked says that another process is writing the records in a
// directory.
type ErrLocked struct {
	Dir string
	PID int
}

func (e *ErrLocked) Error() string {
	return fmt.Sprintf("%s is in use by another analyst (pid %d)", e.Dir, e.PID)
}

// lock claims dir for this process, and returns the function that releases
// it. A lock left by a process that is gone (killed) is taken over.
func lock(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, LockFile)
	for range 3 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "%d\n", os.Getpid())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return nil, fmt.Errorf("record: lock %s: %w", dir, err)
			}
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("record: lock %s: %w", dir, err)
		}
		b, rerr := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if rerr == nil && perr == nil && proc.Alive(pid) {
			return nil, &ErrLocked{Dir: dir, PID: pid}
		}
		// Stale (its process is gone) or half-written: take it over.
		os.Remove(path)
	}
	return nil, fmt.Errorf("record: lock %s: the lock file keeps changing", dir)
}
