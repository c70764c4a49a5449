package analysis

import (
	"context"
	"fmt"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/replay"
	"github.com/analyst-dev/analyst/team"
)

// lastCell is the highest cell index of a recording: a continued run
// numbers its cells after it.
func lastCell(events []record.Event) int {
	n := 0
	for _, e := range events {
		if e.Type == record.TypeCellFinished || e.Type == record.TypeCellStarted {
			n = max(n, e.Index)
		}
	}
	return n
}

// conversation is the recorded conversation as the agents see it: each
// request, then the messages that answered it.
func conversation(events []record.Event) []team.Message {
	if len(events) == 0 {
		return nil
	}
	var h []team.Message
	requests := false
	for _, e := range events {
		requests = requests || e.Type == record.TypeRequestStarted
	}
	if !requests {
		h = append(h, team.Message{Agent: team.UserAgent, Content: events[0].Meta.Task})
	}
	for _, e := range events {
		switch e.Type {
		case record.TypeRequestStarted:
			h = append(h, team.Message{Agent: team.UserAgent, Content: e.Request})
		case record.TypeMessage:
			h = append(h, e.Message())
		}
	}
	return h
}

// Restore runs the continued recording's cells that had succeeded, in
// order, in the session's fresh kernel, to bring its variables back. They
// are not recorded again; each says how it went in a notice. A cell that
// now fails or prints something else is reported and the restore goes on,
// unless strict, when it stops there. The error is not nil when the kernel
// cannot go on, or, with strict, for the first cell that did not match.
func (s *Session) Restore(ctx context.Context, strict bool) (replay.Report, error) {
	var rep replay.Report
	var cells []record.Event
	for _, e := range s.opts.Continue {
		if e.Type == record.TypeCellFinished && e.Cell().Status() == cell.OK {
			cells = append(cells, e)
		}
	}
	if len(cells) == 0 {
		return rep, nil
	}
	if err := s.Wait(ctx); err != nil {
		return rep, err
	}
	s.Notice(fmt.Sprintf("restoring the kernel's state: re-running %d recorded cells", len(cells)), false)
	for i, e := range cells {
		res, err := s.kernel.Execute(ctx, e.Code)
		if err != nil {
			return rep, fmt.Errorf("restore cell %d: %w", e.Index, err)
		}
		now := cell.Cell{Index: e.Index, Language: e.Language, Code: e.Code, Result: res}
		now.Figures = cell.ResolveFigures(res, nil)
		rep.Ran++
		head := fmt.Sprintf("restored cell %d (%d/%d)", e.Index, i+1, len(cells))
		ok, diff := replay.Compare(e.Cell(), now)
		switch {
		case now.Status() != cell.OK:
			diff = fmt.Sprintf("cell %d now ends %s: %s", e.Index, now.Status(), firstLine(now.Text()))
		case ok:
			rep.Matched++
			s.exec.Succeeded(e.Code)
			s.Notice(head+": ok", false)
			continue
		default:
			diff = fmt.Sprintf("cell %d differs: %s", e.Index, diff)
			s.exec.Succeeded(e.Code)
		}
		rep.Differ = append(rep.Differ, diff)
		s.Notice(head+": "+diff, true)
		if strict {
			return rep, fmt.Errorf("restore: %s (--strict)", diff)
		}
	}
	return rep, nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
