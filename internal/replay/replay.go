package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
}

// Load reads a session from a run directory or its events.jsonl.
func Load(path string) (*Session, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, pathErr(err))
	}
	file := path
	if fi.IsDir() {
		file = filepath.Join(path, record.EventsFile)
	}
	events, err := record.ReadEvents(file)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, err)
	}
	s := &Session{Dir: filepath.Dir(file)}
	started := false
	for _, e := range events {
		switch e.Type {
		case record.TypeRunStarted:
			if !started {
				s.Meta, started = e.Meta, true
			}
		case record.TypeMessage, record.TypeCellFinished:
			s.Items = append(s.Items, e)
		}
	}
	if !started {
		return nil, fmt.Errorf("replay %s: no run_started event: is this an analyst events.jsonl?", file)
	}
	return s, nil
}

func pathErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such file or directory")
	}
	return err
}

// DataFiles finds the recorded data files on this machine: first among
// overrides (matched by base name), then beside the records, then at the
// recorded path, as given or relative to the records. A file found with other
// content than was recorded is returned with a warning.
func (s *Session) DataFiles(overrides []string) (paths []string, warnings []string, err error) {
	byName := map[string]string{}
	for _, o := range overrides {
		byName[filepath.Base(o)] = o
	}
	for _, df := range s.Meta.Data {
		var candidates []string
		if o, ok := byName[df.Name]; ok {
			candidates = append(candidates, o)
		}
		candidates = append(candidates, filepath.Join(s.Dir, df.Name), df.Path)
		if !filepath.IsAbs(df.Path) {
			candidates = append(candidates, filepath.Join(s.Dir, df.Path))
		}
		found := ""
		for _, c := range candidates {
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
				found = c
				break
			}
		}
		if found == "" {
			return nil, nil, &MissingDataError{Name: df.Name, Recorded: df.Path}
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
	Recorded string // where it was read from when the run was recorded
}

func (e *MissingDataError) Error() string {
	return fmt.Sprintf("data file %s not found (recorded as %s)", e.Name, e.Recorded)
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
