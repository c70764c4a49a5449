package record_test

import (
	"fmt"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/team"
)

func ExampleCost() {
	in, out, ok := record.Price("gpt-4o-mini-2024-07-18")
	fmt.Println(in, out, ok)
	u := team.Usage{PromptTokens: 1_000_000, CompletionTokens: 200_000}
	fmt.Printf("$%.2f\n", record.Cost(u, in, out))
	// Output:
	// 0.15 0.6 true
	// $0.27
}
