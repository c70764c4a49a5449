package redact

import (
	"slices"
	"strings"
	"sync"
)

// MinLen is the length, in bytes, below which a secret is not looked for.
const MinLen = 8

// Redactor replaces secrets with markers. Its methods are safe for
// concurrent use, and secrets may be added while it is in use. The zero
// value knows no secrets; a nil *Redactor is valid and changes nothing.
type Redactor struct {
	// OnFirst, if set, is called once, on the first replacement, with the
	// name of the secret replaced: the place to tell the user.
	OnFirst func(name string)

	mu      sync.RWMutex
	secrets []secret // longest first
	repl    *strings.Replacer
	once    sync.Once
}

type secret struct{ name, value string }

// Marker returns what replaces the secret called name.
func Marker(name string) string { return "[redacted " + name + "]" }

// Add makes r look for value, reported as name ("OPENAI_API_KEY"). An empty
// value, one shorter than MinLen or one already known is ignored.
func (r *Redactor) Add(name, value string) {
	if len(value) < MinLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s.value == value {
			return
		}
	}
	r.secrets = append(r.secrets, secret{name, value})
	// strings.Replacer tries the old strings in argument order at each
	// position: the longest first, so that a secret holding another is
	// replaced whole.
	slices.SortStableFunc(r.secrets, func(a, b secret) int { return len(b.value) - len(a.value) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s.value, Marker(s.name))
	}
	r.repl = strings.NewReplacer(pairs...)
}

// Redact returns s with every secret replaced by its marker.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	secrets, repl := r.secrets, r.repl
	r.mu.RUnlock()
	for _, sec := range secrets {
		if strings.Contains(s, sec.value) {
			if r.OnFirst != nil {
				r.once.Do(func() { r.OnFirst(sec.name) })
			}
			return repl.Replace(s)
		}
	}
	return s
}

// Partial returns the length of the longest end of s that is the start of
// a secret, but not a whole one: text a stream must hold back until more
// arrives, since the rest of the secret may follow. Text before that end
// can be redacted and shown: no secret straddles the cut.
func (r *Redactor) Partial(s string) int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, sec := range r.secrets {
		for i := max(len(s)-len(sec.value)+1, 0); i < len(s)-n; i++ {
			if strings.HasPrefix(sec.value, s[i:]) {
				n = len(s) - i
				break
			}
		}
	}
	return n
}
