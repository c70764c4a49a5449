package executor

import (
	"context"
	"strings"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// silentKernel runs code without it counting as a cell: no history, no
// execution count. *kernel.Handle is one.
type silentKernel interface {
	ExecuteSilent(ctx context.Context, code string) (*jupyter.Result, error)
}

// stateWait is how long the kernel state card may take: a round trip and a
// walk over the user's variables, which is milliseconds.
const stateWait = 10 * time.Second

// maxState is the longest state card kept, in characters.
const maxState = 2000

// stateCode prints a line per variable of the user's namespace: its name,
// type and shape (columns for a table), or its value for a number or a
// short string. Modules, classes, functions and names starting with "_" are
// left out; so is everything past the first 40. It defines no name that
// stays.
const stateCode = `def _analyst_state(ns):
    import types
    rows = []
    for k, v in list(ns.items()):
        if k.startswith('_') or k in ('In', 'Out', 'exit', 'quit') or isinstance(v, (types.ModuleType, type)) or callable(v):
            continue
        t = type(v).__name__
        try:
            shape = getattr(v, 'shape', None)
            if isinstance(shape, tuple) and shape:
                d = t + ' ' + 'x'.join(map(str, shape))
                cols = getattr(v, 'columns', None)
                if cols is not None:
                    names = [str(c) for c in list(cols)[:12]]
                    d += ' columns ' + ', '.join(names) + (', ...' if len(cols) > 12 else '')
                elif getattr(v, 'dtype', None) is not None:
                    d += ' ' + str(v.dtype)
            elif isinstance(v, (bool, int, float, complex)) or shape == ():
                d = t + ' = ' + str(v)
            elif isinstance(v, str):
                d = 'str = ' + repr(v) if len(v) <= 60 else 'str, %d characters' % len(v)
            elif isinstance(v, (list, tuple, dict, set, frozenset)):
                d = t + ', %d items' % len(v)
            else:
                d = t
        except Exception:
            d = t
        rows.append(k + ': ' + d[:160])
    more = len(rows) - 40
    print('\n'.join(rows[:40]) + ('\n... %d more' % more if more > 0 else ''), end='')
_analyst_state(globals())
del _analyst_state
`

// State describes the kernel's variables with a silent request, for the
// agents that plan and write the next cells; "" when the kernel cannot run
// silent code or the request failed: the card is a help, never a reason
// for the run to fail.
func (e *Executor) State(ctx context.Context) string {
	k, ok := e.kernel.(silentKernel)
	if !ok || ctx.Err() != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, stateWait)
	defer cancel()
	res, err := k.ExecuteSilent(ctx, stateCode)
	if err != nil || res == nil || res.Error != nil || res.TimedOut || res.Canceled {
		return ""
	}
	text := strings.TrimSpace(res.Text())
	if text == "" {
		return "(no variables yet)"
	}
	if len(text) > maxState {
		text = text[:strings.LastIndexByte(text[:maxState], '\n')+1] + "..."
	}
	return text
}
