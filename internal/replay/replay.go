package replay

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/analyst-dev/analyst/agents/executor"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/record"
)

// Session is a recorded run.
type Session struct {
	// Dir is the directory that holds the records.
	Dir string
	// Meta is the run's recorded configuration.
	Meta record.Meta
	// Items are the messages and cells in the order they happened.
	Items []record.Event

	file    string   // the events.jsonl read
	missing []string // what the recording lacks to be a whole run
}

// Load reads a session from a run directory or its events.jsonl. A
// recording cut short by a crash loads (a run can go on from it); Complete
// says whether it is whole.
func Load(path string) (*Session, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, pathErr(err))
	}
	file := path
	if fi.IsDir() {
		file = filepath.Join(path, record.EventsFile)
	}
	events, cut, err := record.ReadEventsCut(file)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, err)
	}
	s := &Session{Dir: filepath.Dir(file), file: file}
	started, finished := false, false
	running := map[int]bool{} // cells started and not yet finished
	for _, e := range events {
		switch e.Type {
		case record.TypeRunStarted:
			if !started {
				s.Meta, started = e.Meta, true
			}
		case record.TypeCellStarted:
			running[e.Index] = true
		case record.TypeMessage:
			s.Items = append(s.Items, e)
		case record.TypeCellFinished:
			delete(running, e.Index)
			s.Items = append(s.Items, e)
		case record.TypeRunFinished:
			finished = true
		}
	}
	if !started {
		return nil, fmt.Errorf("replay %s: no run_started event: is this an analyst events.jsonl?", file)
	}
	if cut > 0 {
		s.missing = append(s.missing, fmt.Sprintf("its last line (%d) is cut short", cut))
	}
	for _, i := range slices.Sorted(maps.Keys(running)) {
		s.missing = append(s.missing, fmt.Sprintf("cell %d started but has no cell_finished", i))
	}
	if !finished {
		s.missing = append(s.missing, "it has no run_finished event")
	}
	return s, nil
}

// Complete returns an error that says what is missing when the recording is
// cut short or torn (a last line cut in the middle, a cell started but never
// finished, no run_finished event), or nil when it is whole. Replaying part
// of a run would report success on cells that were never compared.
func (s *Session) Complete() error {
	if len(s.missing) == 0 {
		return nil
	}
	return fmt.Errorf("replay %s: the recording is incomplete (the run crashed or the file was cut or edited): %s", s.file, strings.Join(s.missing, "; "))
}

// plainName reports whether name is the name of a file in a folder, with no
// folder in it: not empty, not . or .., no / or \ or NUL.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

func pathErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such file or directory")
	}
	return err
}

// DataFiles finds the recorded data files on this machine, by their plain
// names only: first among overrides, the files the user named (matched by
// base name), then a regular file of that name beside the records (not a
// symbolic link). A path read from the recording is never opened: a
// recording is input from anyone, and its paths could name any file of the
// user's. A file found with other content than was recorded is returned with
// a warning.
func (s *Session) DataFiles(overrides []string) (paths []string, warnings []string, err error) {
	byName := map[string]string{}
	for _, o := range overrides {
		byName[filepath.Base(o)] = o
	}
	for _, df := range s.Meta.Data {
		if !plainName(df.Name) {
			return nil, nil, fmt.Errorf("data file name %q is not a plain file name: the recording is damaged or was tampered with", df.Name)
		}
		found := byName[df.Name]
		if found == "" {
			beside := filepath.Join(s.Dir, df.Name)
			if fi, err := os.Lstat(beside); err == nil && fi.Mode().IsRegular() {
				found = beside
			}
		}
		if found == "" {
			return nil, nil, &MissingDataError{Name: df.Name, Dir: s.Dir, Recorded: df.Path}
		}
		if df.SHA256 != "" {
			df2, err := record.NewDataFile(df.Name, found)
			if err != nil {
				return nil, nil, err
			}
			sum := df2.SHA256
			if sum != df.SHA256 {
				warnings = append(warnings, fmt.Sprintf("%s differs from the recorded file (sha256 %s…, recorded %s…): outputs may differ", found, sum[:12], df.SHA256[:min(12, len(df.SHA256))]))
			}
		}
		paths = append(paths, found)
	}
	return paths, warnings, nil
}

// Runner runs code as the next cell of a session. *analysis.Session is a
// Runner.
type Runner interface {
	Exec(ctx context.Context, agent, code string) (cell.Cell, error)
}

// Report is how the recorded cells fared when run again.
type Report struct {
	Ran, Matched int
	// Differ says, for each cell whose output differs, which and how.
	Differ []string
}

// Rerun runs the recorded cells that ran, in order, through r under the
// executor's name, and compares each one's output with the recording.
// quote, when set, is given each recorded message of the agents other than
// the executor, in order, to show the conversation; differ, when set, is
// told of each difference as it is found. It stops when ctx is done or a
// cell cannot run (the kernel cannot go on), returning the error.
func (s *Session) Rerun(ctx context.Context, r Runner, quote func(agent, content string), differ func(string)) (Report, error) {
	var rep Report
	for _, it := range s.Items {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if it.Type == record.TypeMessage {
			if it.Agent != executor.Name && quote != nil {
				quote(it.Agent, it.Content)
			}
			continue
		}
		if !Ran(it) {
			continue
		}
		c, err := r.Exec(ctx, executor.Name, it.Code)
		if err != nil {
			return rep, err
		}
		rep.Ran++
		ok, diff := Compare(it.Cell(), c)
		if ok {
			rep.Matched++
			continue
		}
		rep.Differ = append(rep.Differ, fmt.Sprintf("cell %d (recorded as cell %d) differs: %s", c.Index, it.Index, diff))
		if differ != nil {
			differ(rep.Differ[len(rep.Differ)-1])
		}
	}
	return rep, nil
}

// MissingDataError says that a recorded data file was not found here.
type MissingDataError struct {
	Name     string // the file's name in the kernel
	Dir      string // the recording's folder, where it was looked for
	Recorded string // where it was read from when the run was recorded (never read now)
}

func (e *MissingDataError) Error() string {
	return fmt.Sprintf("data file %s not found beside the recording in %s (recorded as %s)", e.Name, e.Dir, e.Recorded)
}

// Ran reports whether the recorded cell was run (not skipped).
func Ran(e record.Event) bool {
	return e.Cell().Status() != cell.Skipped
}

// Compare tells whether a cell's outputs now match the recorded ones, by
// what a reader sees (see cell.Cell.Fingerprint): stream text, the text of
// rich outputs, which images there are (not their bytes, which differ
// between library versions), and the error's name and value. When they
// differ, diff names the first differing line.
func Compare(recorded, now cell.Cell) (match bool, diff string) {
	a, b := recorded.Fingerprint(), now.Fingerprint()
	if a == b {
		return true, ""
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return false, fmt.Sprintf("line %d: recorded %q, now %q", i+1, x, y)
		}
	}
	return false, "outputs differ"
}
