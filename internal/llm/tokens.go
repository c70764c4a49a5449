package llm

import "unicode/utf8"

// charsPerToken is the rough number of characters in a token.
const charsPerToken = 4

// EstimateTokens estimates the number of tokens in s: about one for every
// four characters, rounded up.
func EstimateTokens(s string) int {
	return (utf8.RuneCountInString(s) + charsPerToken - 1) / charsPerToken
}

// estimateUsage estimates the usage of an answer from the lengths of the
// prompt messages and of the completion.
func estimateUsage(msgs []Message, resp Response) Usage {
	u := Usage{Estimated: true}
	for _, m := range msgs {
		u.PromptTokens += EstimateTokens(m.Content)
		for _, tc := range m.ToolCalls {
			u.PromptTokens += EstimateTokens(tc.Name + tc.Arguments)
		}
	}
	u.CompletionTokens = EstimateTokens(resp.Content)
	for _, tc := range resp.ToolCalls {
		u.CompletionTokens += EstimateTokens(tc.Name + tc.Arguments)
	}
	return u
}
