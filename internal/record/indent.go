package record

import "bytes"

// indentJSON appends to dst the compact JSON src indented as json.Indent
// would indent it (each element on a line of its own, prefix then indent
// per level, ": " after keys, empty objects and arrays kept as {} and []),
// byte for byte. It skips over strings with bytes.IndexByte instead of
// json.Indent's byte-by-byte scanner: a notebook is mostly the text of
// outputs, and this is the difference between walking it once and walking
// it several times. src must be valid compact JSON, as json.Marshal writes.
func indentJSON(dst, src []byte, prefix, indent string) []byte {
	dst, _ = indentJSONAt(dst, src, prefix, indent, 0)
	return dst
}

// indentJSONAt is indentJSON for a piece of compact JSON that starts at
// nesting depth, cut anywhere but inside a string or between a bracket
// and the one closing it empty. It returns the depth at its end.
func indentJSONAt(dst, src []byte, prefix, indent string, depth int) ([]byte, int) {
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			end := stringEnd(src, i+1)
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, c, src[i+1])
				i++
				continue
			}
			dst = append(dst, c)
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst, depth
}

// stringEnd is the index just past the closing quote of the JSON string
// whose contents start at i.
func stringEnd(src []byte, i int) int {
	for {
		j := bytes.IndexByte(src[i:], '"')
		if j < 0 {
			return len(src)
		}
		q := i + j
		// The quote closes the string unless an odd number of backslashes
		// escapes it.
		n := 0
		for k := q - 1; k >= i && src[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}
