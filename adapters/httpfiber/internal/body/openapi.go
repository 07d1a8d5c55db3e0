package body

// OpenAPI describes the compiled schema as OpenAPI 3.1 (JSON Schema 2020-12)
// objects, so that the document authd serves is derived from the same input
// structs that validate requests and cannot drift from them. body is nil
// when the struct declares none; bodyRequired says whether it may be
// absent; params are the query parameters.
func (s *Schema) OpenAPI() (body map[string]any, bodyRequired bool, params []map[string]any) {
	if s.body != nil {
		body = map[string]any{"type": "object", "properties": properties(s.body.fields)}
		if req := required(s.body.fields); len(req) > 0 {
			body["required"] = req
		}
		// z.object strips unknown keys and z.record takes any: neither refuses them.
		body["additionalProperties"] = true
		bodyRequired = !s.body.optional
	}
	if s.query != nil {
		for _, f := range s.query.fields {
			params = append(params, map[string]any{"name": f.name, "in": "query", "required": f.required, "schema": f.openAPI()})
		}
	}
	return body, bodyRequired, params
}

func properties(fields []field) map[string]any {
	props := make(map[string]any, len(fields))
	for _, f := range fields {
		props[f.name] = f.openAPI()
	}
	return props
}

func required(fields []field) []string {
	var out []string
	for _, f := range fields {
		if f.required {
			out = append(out, f.name)
		}
	}
	return out
}

func (f field) openAPI() map[string]any {
	switch f.typ {
	case tEmail:
		return map[string]any{"type": "string", "format": "email"}
	case tNonEmptyString:
		return map[string]any{"type": "string", "minLength": 1}
	case tBool:
		return map[string]any{"type": "boolean"}
	case tStringOrNull:
		return map[string]any{"type": []string{"string", "null"}}
	case tTruthy:
		return map[string]any{"description": "any value, read as JavaScript's Boolean(value)"}
	default:
		return map[string]any{"type": "string"}
	}
}
