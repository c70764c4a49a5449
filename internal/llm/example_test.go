package llm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/analyst-dev/analyst/internal/llm"
)

func ExampleClient_Stream() {
	// A stand-in for an OpenAI-compatible server such as vLLM or Ollama.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"Hel", "lo", "!"} {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", piece)
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()

	c, err := llm.New(llm.Config{BaseURL: srv.URL + "/v1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := llm.Request{
		Model:    "qwen2.5-coder",
		Messages: []llm.Message{{Role: "user", Content: "Say hello."}},
	}
	resp, err := c.Stream(context.Background(), req, func(delta string) {
		fmt.Printf("delta %q\n", delta)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q, %s, %d+%d tokens\n", resp.Content, resp.FinishReason, resp.Usage.PromptTokens, resp.Usage.CompletionTokens)
	// Output:
	// delta "Hel"
	// delta "lo"
	// delta "!"
	// "Hello!", stop, 9+2 tokens
}
