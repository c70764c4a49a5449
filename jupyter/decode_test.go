package jupyter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// refDecode decodes a frame the way readFrame did before decodeMessage:
// encoding/json for the frame, then again for the content.
func refDecode(frame []byte) (*inMessage, bool) {
	var m struct {
		inMessage
		Raw json.RawMessage `json:"content"`
	}
	if json.Unmarshal(frame, &m) != nil {
		return nil, false
	}
	out := &m.inMessage
	out.Content.size = len(m.Raw)
	switch out.Header.MsgType {
	case "stream", "status", "execute_reply", "display_data", "execute_result", "update_display_data", "clear_output", "error":
		out.Content.ok = json.Unmarshal(m.Raw, &out.Content) == nil
	}
	return norm(out), true
}

// norm forgets what was decoded of a content that did not decode whole: a
// call reads only contents that did.
func norm(m *inMessage) *inMessage {
	if !m.Content.ok {
		m.Content = content{size: m.Content.size}
	}
	return m
}

// frames are wire frames as Jupyter Server and the gateways send them, and
// ones they do not.
var frames = []string{
	// As Jupyter Server sends a stream: ASCII only (ensure_ascii), keys in
	// its order, a parent, escapes.
	`{"header": {"msg_id": "a1_2", "msg_type": "stream", "username": "u", "session": "s", "date": "2026-11-29T23:00:00.000000Z", "version": "5.3"}, "msg_id": "a1_2", "msg_type": "stream", "parent_header": {"msg_id": "p1", "msg_type": "execute_request", "date": "2026-11-29T23:00:00Z"}, "metadata": {}, "content": {"name": "stdout", "text": "row 0 value 0.000\nrow 1 value 0.370\n\"q\" \\ \/ \b\f\r\t caf\u00e9 \ud83d\ude00 \u20ac"}, "buffers": [], "channel": "iopub"}`,
	// Raw UTF-8, invalid UTF-8, lone and reversed surrogates, a control
	// character escaped.
	"{\"header\":{\"msg_type\":\"stream\"},\"parent_header\":{\"msg_id\":\"p\"},\"content\":{\"name\":\"stderr\",\"text\":\"caf\u00e9 \xff\xfe \\ud800 x \\udc00\\ud800 \\ud83d\\u0041 \\u0000 end\"},\"channel\":\"iopub\"}",
	// Content before the header; whitespace everywhere; other keys.
	" \n{ \"content\" : { \"text\" : \"late\" , \"name\" : \"stdout\", \"extra\": [1, -2.5e+3, true, false, null, {\"a\": [[]]}] } , \"header\" : { \"msg_type\" : \"stream\" } , \"channel\" : \"iopub\" }\t\r\n",
	// A stream whose text is not a string: its content is not ok.
	`{"header":{"msg_type":"stream"},"content":{"name":"stdout","text":5}}`,
	// Other contents.
	`{"header":{"msg_id":"r","msg_type":"execute_reply"},"parent_header":{"msg_id":"p"},"content":{"status":"error","execution_count":3,"ename":"ZeroDivisionError","evalue":"division by zero","traceback":["\u001b[0;31mZeroDivisionError\u001b[0m"],"payload":[],"user_expressions":{}}}`,
	`{"header":{"msg_type":"status"},"parent_header":{},"content":{"execution_state":"idle"},"channel":"iopub"}`,
	`{"header":{"msg_type":"status"},"parent_header":{},"content":{"execution_state":"dead"}}`,
	`{"header":{"msg_type":"display_data"},"parent_header":{"msg_id":"p"},"content":{"data":{"text/plain":"<Figure>","image/png":"iVBORw0KGgo="},"metadata":{"image/png":{"width":640,"height":480}},"transient":{"display_id":"d1"}}}`,
	`{"header":{"msg_type":"execute_result"},"parent_header":{"msg_id":"p"},"content":{"data":{"text/plain":"42"},"metadata":{},"execution_count":7}}`,
	`{"header":{"msg_type":"clear_output"},"parent_header":{"msg_id":"p"},"content":{"wait":true}}`,
	`{"header":{"msg_type":"error"},"parent_header":{"msg_id":"p"},"content":{"ename":"E","evalue":"v","traceback":[]}}`,
	`{"header":{"msg_type":"kernel_info_reply"},"parent_header":{"msg_id":"p"},"content":{"status":"ok","protocol_version":"5.3"}}`,
	`{"header":{"msg_type":"execute_input"},"parent_header":{"msg_id":"p"},"content":{"code":"print(1)","execution_count":1}}`,
	// Nulls where objects and strings go; later keys win.
	`{"header":null,"parent_header":null,"channel":null,"content":null}`,
	`{"header":{"msg_type":"status","msg_type":"stream"},"content":{"name":"a","name":"b","text":"x"}}`,
	`null`,
	`{}`,
	// Not messages.
	``,
	`[]`,
	`"text"`,
	`{"header":{"msg_type":"stream"},"content":{"name":"stdout","text":"cut`,
	`{"header":{"msg_type":"stream"}} x`,
	`{"header":{"msg_id":1}}`,
	`{"channel":"iopub",}`,
	`{"content":{"text":"bad \x01 control"},"header":{"msg_type":"stream"}}`,
	`{"content":{"text":"bad \q escape"},"header":{"msg_type":"stream"}}`,
	`{"content":{"x":"bad \q escape"},"header":{"msg_type":"stream"}}`,
	`{"content":{"x":"bad \u12 escape"}}`,
	`{"content":{"x":01}}`,
	`{"content":{"x":-}}`,
	`{"content":{"x":1.}}`,
	`{"content":{"x":1e}}`,
	`{"content":{"x":tru}}`,
	`{"content":[1 2]}`,
	`{"content" "x"}`,
	`{"a":1 "b":2}`,
	`{"content":{"x":"\ud800\u"}}`,
	`{"header":{"msg_type":"stream"},"content":{"text":"\ud83d\u"}}`,
	strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	`{"content":` + strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001) + "}",
}

func TestDecodeMessage(t *testing.T) {
	for _, frame := range frames {
		want, wantOK := refDecode([]byte(frame))
		var got inMessage
		ok := decodeMessage([]byte(frame), &got)
		if ok != wantOK {
			t.Errorf("decodeMessage(%.80q) = %v, encoding/json %v", frame, ok, wantOK)
			continue
		}
		if ok && !reflect.DeepEqual(norm(&got), want) {
			t.Errorf("decodeMessage(%.80q):\n got %+v\nwant %+v", frame, got, *want)
		}
	}
}

func TestDecodeSurrogates(t *testing.T) {
	var m inMessage
	frame := `{"header":{"msg_type":"stream"},"content":{"name":"stdout","text":"caf\u00e9 \ud83d\ude00 \ud800!"}}`
	if !decodeMessage([]byte(frame), &m) {
		t.Fatal("not decoded")
	}
	if want := "café 😀 \uFFFD!"; m.Content.Text != want {
		t.Errorf("text %q, want %q", m.Content.Text, want)
	}
}

// FuzzDecodeMessage checks that decodeMessage accepts what encoding/json
// accepts and decodes it the same, for frames built around fuzzed bytes.
func FuzzDecodeMessage(f *testing.F) {
	for _, frame := range frames {
		f.Add(frame)
	}
	f.Add(`"plain"`)
	f.Add(`"a\"b\\c\u00e9\ud83d\ude00"`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, frame := range []string{
			s,
			`{"header":{"msg_type":"stream"},"content":{"name":"stdout","text":` + s + `}}`,
			`{"header":{"msg_type":"status"},"content":` + s + `}`,
		} {
			want, wantOK := refDecode([]byte(frame))
			var got inMessage
			ok := decodeMessage([]byte(frame), &got)
			if ok && !json.Valid([]byte(frame)) {
				t.Fatalf("decodeMessage accepted invalid JSON %q", frame)
			}
			if ok != wantOK && !caseFolded(frame) {
				t.Fatalf("decodeMessage(%q) = %v, encoding/json %v", frame, ok, wantOK)
			}
			if ok && wantOK && !caseFolded(frame) && !reflect.DeepEqual(norm(&got), want) {
				t.Fatalf("decodeMessage(%q):\n got %+v\nwant %+v", frame, got, *want)
			}
		}
	})
}

// caseFolded reports whether frame may hold a key that encoding/json
// matches without regard to case and decodeMessage does not.
func caseFolded(frame string) bool {
	lower := strings.ToLower(frame)
	for _, k := range []string{"channel", "header", "parent_header", "msg_id", "msg_type", "content",
		"execution_state", "status", "execution_count", "ename", "evalue", "traceback", "name", "text",
		"data", "metadata", "transient", "display_id", "wait"} {
		if strings.Count(lower, k) != strings.Count(frame, k) {
			return true
		}
	}
	return strings.ContainsAny(frame, "\u017f\u212a") // ſ and K fold to s and k
}

func BenchmarkDecodeStream(b *testing.B) {
	text, _ := json.Marshal(strings.Repeat("row 12345 value 4567.890\n", 1<<20/25))
	frame := []byte(`{"header": {"msg_id": "a", "msg_type": "stream"}, "parent_header": {"msg_id": "p"}, "metadata": {}, "content": {"name": "stdout", "text": ` + string(text) + `}, "buffers": [], "channel": "iopub"}`)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		var m inMessage
		if !decodeMessage(frame, &m) {
			b.Fatal("not decoded")
		}
	}
}
