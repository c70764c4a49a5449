package llm

// Redactor scrubs secrets from what a model wrote; see Config.Redactor.
type Redactor interface {
	// Redact returns s with every secret replaced by a marker.
	Redact(s string) string
	// Partial returns the length of the longest end of s that may begin a
	// secret: streamed text held back until more of it arrives.
	Partial(s string) int
}

// scrubStream wraps onDelta so that it gets scrubbed text only: the text
// that may begin a secret is held back until the next delta, or until
// flush at the end of the answer.
func (c *Client) scrubStream(onDelta func(string)) (wrapped func(string), flush func()) {
	r := c.cfg.Redactor
	if r == nil {
		return onDelta, func() {}
	}
	var held string
	emit := func(text string) {
		if text = r.Redact(text); text != "" {
			onDelta(text)
		}
	}
	wrapped = func(d string) {
		text := held + d
		keep := r.Partial(text)
		held = text[len(text)-keep:]
		emit(text[:len(text)-keep])
	}
	flush = func() {
		emit(held)
		held = ""
	}
	return wrapped, flush
}

// scrub scrubs a whole answer: its content and its tool calls' arguments.
func (c *Client) scrub(resp *Response) {
	r := c.cfg.Redactor
	if r == nil {
		return
	}
	resp.Content = r.Redact(resp.Content)
	for i := range resp.ToolCalls {
		resp.ToolCalls[i].Arguments = r.Redact(resp.ToolCalls[i].Arguments)
	}
}
