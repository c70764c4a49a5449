package console

import (
	"bytes"
	"io"
)

// Writers returns an IO whose output streams are out and err, with an empty
// input. Neither stream is a terminal and neither is coloured, whatever the
// environment says: it is meant for transcripts written to files.
func Writers(out, err io.Writer) *IO {
	return &IO{In: &bytes.Buffer{}, Out: out, Err: err}
}
