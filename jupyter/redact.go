package jupyter

// redact applies f to the text of res that came from the kernel: streams,
// tracebacks, the exception, and every string of the MIME bundles and their
// metadata (base64 images too: a secret put there verbatim would otherwise
// reach the notebook). Streams are scrubbed once merged, so that a secret
// split between two chunks is found.
// When reported, the MIME bundles were already redacted in place as they
// were reported (see call.report: the bundle's maps are the ones the result
// keeps), and are not scrubbed again.
func redact(res *Result, f func(string) string, reported bool) {
	if f == nil || res == nil {
		return
	}
	for i := range res.Outputs {
		if reported && res.Outputs[i].Data != nil {
			continue
		}
		redactOutput(&res.Outputs[i], f)
	}
	if e := res.Error; e != nil {
		e.Name, e.Value = f(e.Name), f(e.Value)
		for i, line := range e.Traceback {
			e.Traceback[i] = f(line)
		}
	}
}

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
