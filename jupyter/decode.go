package jupyter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// decodeMessage decodes a whole frame into m in one pass: the routing
// fields, and the content of the message types a call reads into
// m.Content. A stream's content, which holds nearly all of a cell's
// output, is decoded by hand (its text unescaped straight into the string
// the Result keeps); the other contents, small or rare, by encoding/json.
// It reports false if the frame is not a JSON object.
//
// Keys are matched exactly (encoding/json would also take "Channel" for
// "channel"; Jupyter sends them in lower case). Later keys win, as there.
func decodeMessage(frame []byte, m *inMessage) bool {
	d := decoder{b: frame}
	var content []byte
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "channel":
			return d.stringInto(&m.Channel)
		case "header":
			return d.object(func(key []byte) bool {
				switch string(key) {
				case "msg_id":
					return d.stringInto(&m.Header.MsgID)
				case "msg_type":
					return d.stringInto(&m.Header.MsgType)
				}
				return d.skip()
			})
		case "parent_header":
			return d.object(func(key []byte) bool {
				if string(key) == "msg_id" {
					return d.stringInto(&m.ParentHeader.MsgID)
				}
				return d.skip()
			})
		case "content":
			if m.Header.MsgType != "" {
				// The header came first, as Jupyter sends it: the
				// content is decoded as it is read.
				content = nil
				return d.content(m.Header.MsgType, &m.Content)
			}
			start := d.ws()
			if !d.skip() {
				return false
			}
			content = frame[start:d.i]
			return true
		}
		return d.skip()
	})
	if !ok || d.ws() != len(frame) {
		return false
	}
	if content != nil {
		cd := decoder{b: content}
		cd.content(m.Header.MsgType, &m.Content)
	}
	return true
}

// content reads the content of a message of type typ into c, decoding it
// when it is one a call reads. It reports false only for invalid JSON;
// c.ok says whether the content decoded whole.
func (d *decoder) content(typ string, c *content) bool {
	start := d.ws()
	*c = content{}
	switch typ {
	case "stream":
		c.ok = d.object(func(key []byte) bool {
			switch string(key) {
			case "name":
				return d.stringInto(&c.Name)
			case "text":
				return d.stringInto(&c.Text)
			}
			return d.skip()
		})
		if !c.ok {
			// Not a stream's content: is it valid JSON still?
			*c = content{}
			d.i, d.depth = start, 0
			if !d.skip() {
				return false
			}
		}
	case "status", "execute_reply", "display_data", "execute_result", "update_display_data", "clear_output", "error":
		if !d.skip() {
			return false
		}
		c.ok = json.Unmarshal(d.b[start:d.i], c) == nil
	default:
		if !d.skip() {
			return false
		}
	}
	c.size = d.i - start
	return true
}

// maxDepth bounds the nesting of a frame's values, as encoding/json does.
const maxDepth = 10000

// decoder reads JSON from b at i. Each method reports false, leaving i
// anywhere, when the input is not valid JSON.
type decoder struct {
	b     []byte
	i     int
	depth int
}

// ws skips white space and returns the offset of what follows.
func (d *decoder) ws() int {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return d.i
		}
	}
	return d.i
}

// next skips white space and, if the next byte is c, reads it.
func (d *decoder) next(c byte) bool {
	if d.ws() < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads an object, calling member for each key with the decoder
// before the key's value; member must read the value. null reads as an
// empty object.
func (d *decoder) object(member func(key []byte) bool) bool {
	if d.literal("null") {
		return true
	}
	if !d.next('{') {
		return false
	}
	if d.depth++; d.depth > maxDepth {
		return false
	}
	defer func() { d.depth-- }()
	if d.next('}') {
		return true
	}
	var key []byte
	for {
		var ok bool
		if d.ws(); d.i >= len(d.b) || d.b[d.i] != '"' {
			return false
		}
		if key, ok = d.unquote(key[:0]); !ok || !d.next(':') || !member(key) {
			return false
		}
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// stringInto reads a string into *s; null leaves *s as it is.
func (d *decoder) stringInto(s *string) bool {
	if d.literal("null") {
		return true
	}
	if d.ws(); d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	start := d.i
	if i := plainRun(d.b, start+1); i < len(d.b) && d.b[i] == '"' {
		*s = string(d.b[start+1 : i])
		d.i = i + 1
		return true
	}
	// The value is at most as long as the rest of the frame, and a
	// stream's text, the long one, is most of it: one pass, one
	// allocation, no copy into the string (as strings.Builder does it).
	v, ok := d.unquote(make([]byte, 0, len(d.b)-start))
	if !ok {
		return false
	}
	*s = unsafe.String(unsafe.SliceData(v), len(v))
	return true
}

// plainByte marks the bytes a string holds as they are: not a quote, a
// backslash, a control character or the start of a multi-byte character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainRun returns the end of the run of plain bytes (see plainByte) in b
// from i. It goes eight bytes at a time where it can.
func plainRun(b []byte, i int) int {
	const (
		ones = 0x0101010101010101
		high = ones * 0x80
	)
	hasZero := func(x uint64) bool { return (x-ones)&^x&high != 0 }
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// Adding 0x60 to a byte below 0x80 sets its high bit exactly when
		// the byte is 0x20 or more.
		if w&high != 0 || (w+ones*0x60)&high != high || hasZero(w^(ones*'"')) || hasZero(w^(ones*'\\')) {
			break
		}
	}
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	return i
}

// skipString reads the string at d.i (its opening quote) without decoding
// it, checking that it is valid.
func (d *decoder) skipString() bool {
	b := d.b
	i := d.i + 1
	for {
		i = plainRun(b, i)
		if i >= len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return true
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			i++
			continue
		}
		if i+1 >= len(b) {
			return false
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if hex4(b[i+2:]) < 0 {
				return false
			}
			i += 6
		default:
			return false
		}
	}
}

// unquote reads the string at d.i, appending its value to dst as
// encoding/json decodes it: invalid UTF-8 and lone surrogates become
// U+FFFD.
func (d *decoder) unquote(dst []byte) ([]byte, bool) {
	b := d.b
	i := d.i + 1
	for {
		start := i
		i = plainRun(b, i)
		dst = append(dst, b[start:i]...)
		if i >= len(b) {
			return nil, false
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return dst, true
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, b[i:i+size]...)
			}
			i += size
			continue
		}
		// A backslash.
		if i+1 >= len(b) {
			return nil, false
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(b[i+2:])
			if r < 0 {
				return nil, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2 := hex4(b[min(i+2, len(b)):]); i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' && r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return nil, false
		}
		i += 2
	}
}

// hex4 decodes the four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// literal reads word (true, false or null) if it comes next.
func (d *decoder) literal(word string) bool {
	d.ws()
	if !bytes.HasPrefix(d.b[d.i:], []byte(word)) {
		return false
	}
	d.i += len(word)
	return true
}

// skip reads a value of any kind, checking that it is valid JSON.
func (d *decoder) skip() bool {
	if d.ws() >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(func([]byte) bool { return d.skip() })
	case c == '[':
		return d.array()
	case c == '"':
		return d.skipString()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	return d.literal("true") || d.literal("false") || d.literal("null")
}

// array reads an array, skipping its elements.
func (d *decoder) array() bool {
	d.i++ // '['
	if d.depth++; d.depth > maxDepth {
		return false
	}
	defer func() { d.depth-- }()
	if d.next(']') {
		return true
	}
	for {
		if !d.skip() {
			return false
		}
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// number reads a number as JSON writes it.
func (d *decoder) number() bool {
	b, i := d.b, d.i
	digits := func() bool {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	d.i = i
	return true
}
