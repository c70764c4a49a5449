package record

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestIndentJSON checks indentJSON against json.Indent on JSON with every
// shape a notebook holds, and strings full of escapes.
func TestIndentJSON(t *testing.T) {
	values := []any{
		map[string]any{},
		[]any{},
		map[string]any{"a": []any{}, "b": map[string]any{}, "c": nil, "d": true, "e": 1.5},
		[]any{"x", `quote " and \ backslash \\" end`, "\\", "\\\\\"", "tab\tnew\nline", "<b>&</b>", "é 中"},
		map[string]any{"cells": []any{map[string]any{"outputs": []any{map[string]any{"text": strings.Repeat(`a"b\c`, 1000)}}, "source": "x = {'a': [1, 2]}"}}},
	}
	for _, v := range values {
		var compact bytes.Buffer
		enc := json.NewEncoder(&compact)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		src := bytes.TrimSuffix(compact.Bytes(), []byte("\n"))
		var want bytes.Buffer
		if err := json.Indent(&want, src, "  ", " "); err != nil {
			t.Fatal(err)
		}
		if got := indentJSON(nil, src, "  ", " "); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("indentJSON(%s)\n got %s\nwant %s", src, got, want.Bytes())
		}
	}
}
