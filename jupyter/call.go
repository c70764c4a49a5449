package jupyter

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// callKind says what ends a call.
type callKind int

const (
	// executeCall ends when both execute_reply and status idle arrived.
	executeCall callKind = iota
	// probeCall is an executeCall that is not a user's cell: a kernel
	// death reported by the server does not fail it.
	probeCall
	// infoCall ends when both its kernel_info_reply and its status idle
	// arrived: the status proves that the connection's IOPub is subscribed.
	infoCall
)

// call collects the messages answering one request. The connection's reader
// goroutine feeds it; the requesting goroutine waits on done and then takes
// the result with finish.
type call struct {
	id   string
	kind callKind
	max  int // bound on kept output bytes
	// onOutput, when set, sees each output kept, as it arrives, under mu;
	// streams a line at a time when redact is set (see addStream).
	onOutput func(Output)
	// redact, when set, is applied to every text the kernel sent as it is
	// kept, once (see redact.go).
	redact func(string) string

	done     chan struct{} // closed when the call completed or failed
	doneOnce sync.Once

	mu        sync.Mutex
	finished  bool // finish was called: later messages are ignored
	seen      map[string]struct{}
	entries   []*entry
	kept      int // output bytes kept
	clearWait bool
	gotReply  bool
	gotIdle   bool
	err       error
	res       Result
}

// entry is an output being collected. A stream's first chunk stays in
// Output.Text as it was decoded; when more chunks come, the text grows in a
// builder so that merging them stays linear.
type entry struct {
	Output
	more strings.Builder
	size int // bytes counted against the bound
	// raw is, with a redactor, the stream's text after its last line end,
	// not redacted yet: a secret split between two chunks is found once
	// the line is whole (see seal). It grows by appending, so that a long
	// line arriving in many chunks costs time linear in its length.
	raw []byte
}

// append adds text to a stream's output.
func (e *entry) append(text string) {
	switch {
	case text == "":
	case e.Text == "" && e.more.Len() == 0:
		e.Text = text
	default:
		if e.more.Len() == 0 {
			e.more.Grow(len(e.Text) + len(text))
			e.more.WriteString(e.Text)
			e.Text = ""
		}
		e.more.WriteString(text)
	}
}

func newCall(id string, kind callKind, max int) *call {
	return &call{id: id, kind: kind, max: max, done: make(chan struct{}), seen: map[string]struct{}{}}
}

// complete closes done once.
func (c *call) complete() {
	c.doneOnce.Do(func() { close(c.done) })
}

// fail ends the call with err, unless it already ended.
func (c *call) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished || c.err != nil || (c.gotReply && c.gotIdle) {
		return
	}
	c.err = err
	c.complete()
}

// handle applies one message whose parent is this call's request.
func (c *call) handle(m *inMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	if id := m.Header.MsgID; id != "" {
		if _, dup := c.seen[id]; dup {
			return // replayed after a reconnect
		}
		c.seen[id] = struct{}{}
	}
	if m.oversize {
		c.handleOversize(m)
		return
	}
	mc := &m.Content
	switch m.Header.MsgType {
	case "kernel_info_reply":
		c.gotReply = true
	case "status":
		if mc.ok && mc.ExecutionState == "idle" {
			c.gotIdle = true
		}
	case "execute_reply":
		c.gotReply = true
		c.res.Status = mc.Status
		c.res.ExecutionCount = mc.ExecutionCount
		if mc.Status == "error" && c.res.Error == nil && mc.Ename != "" {
			c.res.Error = c.redactError(&ExecError{Name: mc.Ename, Value: mc.Evalue, Traceback: mc.Traceback})
		}
	case "stream":
		if mc.ok {
			c.addStream(mc.Name, mc.Text)
		}
	case "display_data", "execute_result":
		if mc.ok {
			c.addDisplay(m.Header.MsgType, mc)
		}
	case "update_display_data":
		if mc.ok {
			c.updateDisplay(mc)
		}
	case "clear_output":
		if mc.Wait {
			c.clearWait = true
		} else {
			c.clear()
		}
	case "error":
		if mc.ok {
			c.addError(&ExecError{Name: mc.Ename, Value: mc.Evalue, Traceback: mc.Traceback})
		}
	}
	if c.gotReply && c.gotIdle {
		c.complete()
	}
}

// handleOversize accounts for a message too large to read: its output is
// dropped; a reply or status still counts.
func (c *call) handleOversize(m *inMessage) {
	switch m.Header.MsgType {
	case "execute_reply":
		c.gotReply = true
	case "status":
		c.gotIdle = true // a status message is never large; be permissive
	default:
		c.res.DroppedBytes += m.size
	}
	if c.gotReply && c.gotIdle {
		c.complete()
	}
}

// flushClear applies a pending clear_output(wait=True): the old outputs go
// when the next one arrives.
func (c *call) flushClear() {
	if c.clearWait {
		c.clearWait = false
		c.clear()
	}
}

// clear drops the outputs so far.
func (c *call) clear() {
	c.seal()
	c.entries = nil
	c.kept = 0
}

// addStream appends stream text, merging it into the previous output when
// that is the same stream, keeping the head within the bound. With a
// redactor, the text is redacted (and reported) a line at a time, up to a
// newline or carriage return: a secret split between two chunks is found,
// and every byte is scrubbed once. The end of a line waits for the rest
// until another output comes or the call finishes.
func (c *call) addStream(name, text string) {
	c.flushClear()
	room := c.max - c.kept
	if len(text) > room {
		cut := max(room, 0)
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		c.res.DroppedBytes += int64(len(text) - cut)
		text = text[:cut]
	}
	if text == "" {
		return
	}
	c.kept += len(text)
	var last *entry
	if n := len(c.entries); n > 0 && c.entries[n-1].Type == "stream" && c.entries[n-1].Name == name {
		last = c.entries[n-1]
	} else {
		c.seal()
		last = &entry{Output: Output{Type: "stream", Name: name}}
		c.entries = append(c.entries, last)
	}
	last.size += len(text)
	if c.redact != nil {
		cut := strings.LastIndexAny(text, "\r\n") + 1
		if cut == 0 {
			last.raw = append(last.raw, text...)
			return
		}
		lines := text[:cut]
		if len(last.raw) > 0 {
			lines = string(append(last.raw, lines...))
		}
		last.raw = append(last.raw[:0], text[cut:]...)
		text = c.redact(lines)
	}
	last.append(text)
	if text != "" {
		c.report(Output{Type: "stream", Name: name, Text: text})
	}
}

// seal redacts, keeps and reports the end of the last output's line held
// back by addStream: no more text will join it.
func (c *call) seal() {
	n := len(c.entries)
	if n == 0 || len(c.entries[n-1].raw) == 0 {
		return
	}
	e := c.entries[n-1]
	text := c.redact(string(e.raw))
	e.raw = nil
	e.append(text)
	c.report(Output{Type: "stream", Name: e.Name, Text: text})
}

// addDisplay appends a display_data or execute_result, or drops it whole
// if it does not fit in the bound.
func (c *call) addDisplay(typ string, dc *content) {
	size := dc.size
	c.flushClear()
	if c.kept+size > c.max {
		c.res.DroppedBytes += int64(size)
		return
	}
	c.kept += size
	o := Output{Type: typ, Data: dc.Data, Metadata: dc.Metadata, DisplayID: dc.Transient.DisplayID}
	if typ == "execute_result" {
		o.ExecutionCount = dc.ExecutionCount
	}
	c.redactBundle(&o)
	c.seal()
	c.entries = append(c.entries, &entry{Output: o, size: size})
	c.report(o)
}

// redactBundle redacts o's MIME bundle and metadata in place.
func (c *call) redactBundle(o *Output) {
	if c.redact != nil {
		redactOutput(o, c.redact)
	}
}

// updateDisplay replaces the bundle of every output showing the display id.
func (c *call) updateDisplay(dc *content) {
	size := dc.size
	id := dc.Transient.DisplayID
	if id == "" {
		return
	}
	var o *Output // the new bundle, redacted once for every output showing it
	for _, e := range c.entries {
		if e.DisplayID != id {
			continue
		}
		if c.kept-e.size+size > c.max {
			c.res.DroppedBytes += int64(size)
			continue
		}
		c.kept += size - e.size
		e.size = size
		if o == nil {
			o = &Output{Data: dc.Data, Metadata: dc.Metadata}
			c.redactBundle(o)
		}
		e.Data, e.Metadata = o.Data, o.Metadata
	}
}

// addError records the cell's exception. It is always kept.
func (c *call) addError(e *ExecError) {
	c.flushClear()
	c.res.Error = c.redactError(e)
	text := e.PlainTraceback()
	if text == "" {
		text = e.Error()
	}
	c.kept += len(text)
	c.seal()
	c.entries = append(c.entries, &entry{Output: Output{Type: "error", Text: text}, size: len(text)})
	c.report(Output{Type: "error", Text: text})
}

// redactError redacts e's texts in place and returns it. A traceback line
// is also scrubbed without its escape codes, which may split a secret;
// where that finds one, the line is kept plain.
func (c *call) redactError(e *ExecError) *ExecError {
	if f := c.redact; f != nil {
		e.Name, e.Value = f(e.Name), f(e.Value)
		for i, line := range e.Traceback {
			line = f(line)
			if plain := StripANSI(line); plain != line {
				if scrubbed := f(plain); scrubbed != plain {
					line = scrubbed
				}
			}
			e.Traceback[i] = line
		}
	}
	return e
}

// report passes an output just kept, redacted, to onOutput, if set; c.mu
// is held, so finish waits for it.
func (c *call) report(o Output) {
	if c.onOutput != nil {
		c.onOutput(o)
	}
}

// finish stops the call from changing and returns its result and error.
func (c *call) finish() (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.finished {
		c.seal()
	}
	c.finished = true
	res := c.res
	res.Outputs = make([]Output, 0, len(c.entries))
	for _, e := range c.entries {
		o := e.Output
		if e.more.Len() > 0 {
			o.Text = e.more.String()
		}
		res.Outputs = append(res.Outputs, o)
	}
	return &res, c.err
}
