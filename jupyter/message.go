package jupyter

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"time"
)

// protocolVersion is the messaging protocol version the client speaks.
const protocolVersion = "5.3"

// header is a message header. Only the fields the client reads or must send
// are kept.
type header struct {
	MsgID    string `json:"msg_id"`
	MsgType  string `json:"msg_type"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	Version  string `json:"version"`
}

// outMessage is a message the client sends.
type outMessage struct {
	Channel      string   `json:"channel"`
	Header       header   `json:"header"`
	ParentHeader struct{} `json:"parent_header"`
	Metadata     struct{} `json:"metadata"`
	Content      any      `json:"content"`
	Buffers      []any    `json:"buffers"`
}

// inMessage is a message received from the server.
type inMessage struct {
	Channel string `json:"channel"`
	Header  struct {
		MsgID   string `json:"msg_id"`
		MsgType string `json:"msg_type"`
	} `json:"header"`
	ParentHeader struct {
		MsgID string `json:"msg_id"`
	} `json:"parent_header"`
	// Content is the decoded content of the message types a call reads
	// (see decodeContent).
	Content content `json:"-"`

	// size is the frame's size in bytes; oversize reports that the frame
	// was larger than the read bound, so Content is missing.
	size     int64
	oversize bool
}

// content is the union of the fields of the contents a call reads: status,
// execute_reply, stream, display_data, execute_result,
// update_display_data, clear_output and error. Each message type fills its
// own fields.
type content struct {
	ExecutionState string         `json:"execution_state"` // status
	Status         string         `json:"status"`          // execute_reply
	ExecutionCount int            `json:"execution_count"` // execute_reply, execute_result
	Ename          string         `json:"ename"`           // execute_reply, error
	Evalue         string         `json:"evalue"`
	Traceback      []string       `json:"traceback"`
	Name           string         `json:"name"` // stream
	Text           string         `json:"text"`
	Data           map[string]any `json:"data"` // display_data, execute_result, update_display_data
	Metadata       map[string]any `json:"metadata"`
	Transient      struct {
		DisplayID string `json:"display_id"`
	} `json:"transient"`
	Wait bool `json:"wait"` // clear_output

	// ok reports that the content was decoded whole; size is its size in
	// bytes on the wire.
	ok   bool
	size int
}

// executeRequest is the content of an execute_request.
type executeRequest struct {
	Code            string         `json:"code"`
	Silent          bool           `json:"silent"`
	StoreHistory    bool           `json:"store_history"`
	UserExpressions map[string]any `json:"user_expressions"`
	AllowStdin      bool           `json:"allow_stdin"`
	StopOnError     bool           `json:"stop_on_error"`
}

// newID returns a random UUID (version 4) in its usual text form.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newMessage builds a request on channel with a fresh msg_id.
func newMessage(session, channel, msgType string, content any) *outMessage {
	return &outMessage{
		Channel: channel,
		Header: header{
			MsgID:    newID(),
			MsgType:  msgType,
			Session:  session,
			Username: "analyst",
			Date:     time.Now().UTC().Format(time.RFC3339Nano),
			Version:  protocolVersion,
		},
		Content: content,
		Buffers: []any{},
	}
}

// maxKeptBuffer bounds the frame buffer a connection's reader keeps between
// frames: one of a cell's large outputs (1 MB and more are common) is read
// into the same buffer as the last instead of a new one grown from nothing.
const maxKeptBuffer = 8 << 20

// readFrame reads one frame from r, keeping at most limit bytes of it. A
// frame within the limit is decoded whole. A larger one is read through
// (and discarded) so that memory stays bounded; its routing fields are
// decoded from the kept prefix and it is returned with oversize set.
func readFrame(r io.Reader, limit int64, buf *bytes.Buffer) (*inMessage, error) {
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	m := &inMessage{size: n}
	if n <= limit {
		if !decodeMessage(buf.Bytes(), m) {
			return nil, errBadFrame
		}
		return m, nil
	}
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, err
	}
	m.size = n + rest
	m.oversize = true
	decodePrefix(buf.Bytes(), m)
	return m, nil
}

// errBadFrame reports a text frame that is not a JSON message; it is skipped.
var errBadFrame = errors.New("frame is not a JSON message")

// decodePrefix decodes the top-level "channel", "header" and
// "parent_header" of a truncated JSON message, stopping at the first value
// it cannot decode (the truncated one).
func decodePrefix(prefix []byte, m *inMessage) {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return
		}
		key, _ := t.(string)
		var dst any
		switch key {
		case "channel":
			dst = &m.Channel
		case "header":
			dst = &m.Header
		case "parent_header":
			dst = &m.ParentHeader
		default:
			dst = new(json.RawMessage)
		}
		if err := dec.Decode(dst); err != nil {
			return
		}
	}
}
