package record

import (
	"regexp"
	"strings"

	"github.com/analyst-dev/analyst/team"
)

// prices are list prices in USD per million tokens (input, output) as
// published by the providers when this table was written (2025). They
// change; a run's Meta.PriceIn and Meta.PriceOut take precedence.
var prices = map[string][2]float64{
	"gpt-4o":        {2.50, 10.00},
	"gpt-4o-mini":   {0.15, 0.60},
	"gpt-4.1":       {2.00, 8.00},
	"gpt-4.1-mini":  {0.40, 1.60},
	"gpt-4.1-nano":  {0.10, 0.40},
	"o3-mini":       {1.10, 4.40},
	"o4-mini":       {1.10, 4.40},
	"qwen-plus":     {0.40, 1.20},
	"qwen-max":      {1.60, 6.40},
	"deepseek-chat": {0.27, 1.10},
}

// versionSuffix matches the snapshot suffixes providers append to a model's
// name: "-2024-07-18", "-0125", "-latest".
var versionSuffix = regexp.MustCompile(`^-(\d{4}-\d{2}-\d{2}|\d{4}|latest)$`)

// Price returns the list price of a well-known model in USD per million
// input and output tokens, as published when this package was written. The
// name may carry a provider prefix ("openai/gpt-4o-mini") or a snapshot
// suffix ("gpt-4o-mini-2024-07-18"). ok is false for other models.
func Price(model string) (in, out float64, ok bool) {
	name := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if p, ok := prices[name]; ok {
		return p[0], p[1], true
	}
	best := ""
	for known := range prices {
		if strings.HasPrefix(name, known) && versionSuffix.MatchString(name[len(known):]) && len(known) > len(best) {
			best = known
		}
	}
	if best == "" {
		return 0, 0, false
	}
	return prices[best][0], prices[best][1], true
}

// Cost returns what the usage costs in USD at in and out USD per million
// prompt and completion tokens.
func Cost(u team.Usage, in, out float64) float64 {
	return (float64(u.PromptTokens)*in + float64(u.CompletionTokens)*out) / 1e6
}

// Cost returns the cost of the usage: at the Meta's prices when given, otherwise
// at the list prices of each agent's model. ok is false when a price is
// unknown.
func (m Meta) Cost(usage map[string]team.Usage) (float64, bool) {
	if m.PriceIn > 0 || m.PriceOut > 0 {
		var total team.Usage
		for _, u := range usage {
			total = total.Add(u)
		}
		return Cost(total, m.PriceIn, m.PriceOut), true
	}
	sum, priced := 0.0, false
	for a, u := range usage {
		if u.Total() == 0 {
			continue
		}
		in, out, ok := Price(m.Models[a])
		if !ok {
			return 0, false
		}
		sum += Cost(u, in, out)
		priced = true
	}
	return sum, priced
}
