package record

import (
	"bytes"
	"slices"
	"unicode/utf8"

	"github.com/analyst-dev/analyst/cell"
)

// appendString appends s as a JSON string, byte for byte as marshal writes
// it (encoding/json without HTML escaping): quotes, backslashes and
// control characters escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped. It goes over runs of plain ASCII eight bytes at a time: a cell's
// output is most of what the records hold.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plainWord(load64(s, i)) {
			i += 8
		}
		for i < len(s) && s[i] < utf8.RuneSelf && plainASCII[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			start = i + size
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the ASCII bytes a JSON string holds as they are.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainWord reports whether none of the eight bytes of w needs escaping or
// is outside ASCII: none is below 0x20, a quote, a backslash or 0x80 and
// above.
func plainWord(w uint64) bool {
	const (
		ones = 0x0101010101010101
		high = ones * 0x80
	)
	hasZero := func(x uint64) bool { return (x-ones)&^x&high != 0 }
	// Adding 0x60 to a byte below 0x80 sets its high bit exactly when the
	// byte is 0x20 or more.
	return w&high == 0 && (w+ones*0x60)&high == high && !hasZero(w^(ones*'"')) && !hasZero(w^(ones*'\\'))
}

// load64 reads the eight bytes of s at i as a little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// encodedOutputs are a cell's outputs as the two files hold them, each a
// compact JSON array: events.jsonl's cell.Output form and the notebook's
// nbformat form. A stream's text, nearly all of a cell's output, is
// escaped once for both. The buffers are reused from one cell to the next.
type encodedOutputs struct {
	events, notebook []byte
}

// encode encodes outs for both files, as marshal would encode them.
func (enc *encodedOutputs) encode(outs []cell.Output) error {
	ev := append(enc.events[:0], '[')
	nb := append(enc.notebook[:0], '[')
	for i, o := range outs {
		if i > 0 {
			ev = append(ev, ',')
		}
		if plainStream(o) {
			ev = append(ev, `{"output_type":"stream"`...)
			if o.Name != "" {
				ev = appendString(append(ev, `,"name":`...), o.Name)
			}
			ev = append(ev, `,"text":`...)
			start := len(ev)
			ev = appendString(slices.Grow(ev, escapedSize(o.Text)), o.Text)
			text := ev[start:]
			if o.Text == "" {
				ev = ev[:start-len(`,"text":`)]
			}
			ev = append(ev, '}')
			if len(nb) > 1 {
				nb = append(nb, ',')
			}
			name := `"stdout"`
			if o.Name == "stderr" {
				name = `"stderr"`
			}
			nb = append(slices.Grow(nb, len(text)+64), `{"output_type":"stream","name":`...)
			nb = append(append(append(nb, name...), `,"text":`...), text...)
			nb = append(nb, '}')
			continue
		}
		b, err := marshal(o)
		if err != nil {
			return err
		}
		ev = append(ev, b...)
		if oj := nbOutput(o); oj != nil {
			b, err := marshal(oj)
			if err != nil {
				return err
			}
			if len(nb) > 1 {
				nb = append(nb, ',')
			}
			nb = append(nb, b...)
		}
	}
	enc.events, enc.notebook = append(ev, ']'), append(nb, ']')
	return nil
}

// plainStream reports whether o is a stream output with nothing but its
// name and text, as a cell's stream outputs are.
func plainStream(o cell.Output) bool {
	return o.OutputType == "stream" && o.Data == nil && o.Metadata == nil && o.ExecutionCount == nil &&
		o.Ename == "" && o.Evalue == "" && o.Traceback == nil && o.DisplayID == ""
}

// escapedSize is room enough for s as a JSON string in most cases: a
// newline every few characters adds a backslash each.
func escapedSize(s string) int { return len(s) + len(s)/8 + 8 }

// emptyOutputs is how marshal writes an empty outputs array.
const emptyOutputs = `"outputs":[]`

// aroundOutputs splits line, a compact JSON object with one "outputs" key
// holding an empty array, into what comes before the array and after it.
// Inside a string every quote is escaped, so the first `"outputs":[]` is
// the key.
func aroundOutputs(line []byte) (before, after []byte) {
	i := bytes.Index(line, []byte(emptyOutputs))
	if i < 0 {
		panic("record: no empty outputs array to fill")
	}
	return line[:i+len(emptyOutputs)-2], line[i+len(emptyOutputs):]
}
