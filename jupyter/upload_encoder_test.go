package jupyter

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"io"
	"testing"
)

// TestChunkEncoder: a chunk that shrinks goes compressed (raw DEFLATE, as
// the kernel's zlib.decompress(b, -15) reads it), one that does not goes as
// it is, and after encoderTrial chunks of which none shrank the encoder
// stops trying.
func TestChunkEncoder(t *testing.T) {
	text := bytes.Repeat([]byte("Row ID,Order ID,Order Date,Region,Sales\n1,CA-2016-152156,11/8/2016,South,261.96\n"), 1<<20/80)
	noise := make([]byte, uploadChunk*(encoderTrial+1))
	rand.Read(noise)

	e := newChunkEncoder()
	body, deflated, err := e.encode(bytes.NewReader(text), int64(len(text)))
	if err != nil || !deflated || len(body) >= len(text)/10 {
		t.Fatalf("text: %d bytes, deflated %v, %v; want it a tenth of %d at most", len(body), deflated, err, len(text))
	}
	if got, err := io.ReadAll(flate.NewReader(bytes.NewReader(body))); err != nil || !bytes.Equal(got, text) {
		t.Fatalf("text does not inflate back: %d bytes, %v", len(got), err)
	}

	e = newChunkEncoder()
	r := bytes.NewReader(noise)
	for i := range encoderTrial + 1 {
		body, deflated, err := e.encode(r, uploadChunk)
		if err != nil || deflated || !bytes.Equal(body, noise[i*uploadChunk:(i+1)*uploadChunk]) {
			t.Fatalf("noise chunk %d: deflated %v, %v, or not the chunk", i, deflated, err)
		}
	}
	if !e.off || e.n != encoderTrial {
		t.Errorf("after %d chunks that did not shrink: off %v after %d tries, want off after %d", encoderTrial+1, e.off, e.n, encoderTrial)
	}
}
