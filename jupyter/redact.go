package jupyter

// redactOutput applies f to the text of one output, in place.
func redactOutput(o *Output, f func(string) string) {
	o.Text = f(o.Text)
	for k, v := range o.Data {
		o.Data[k] = redactValue(v, f)
	}
	for k, v := range o.Metadata {
		o.Metadata[k] = redactValue(v, f)
	}
}

// redactValue applies f to every string in a JSON value.
func redactValue(v any, f func(string) string) any {
	switch v := v.(type) {
	case string:
		return f(v)
	case []any:
		for i, e := range v {
			v[i] = redactValue(e, f)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = redactValue(e, f)
		}
	}
	return v
}
