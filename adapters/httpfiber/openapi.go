package httpfiber

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
)

// openAPIPath is where better-auth's openAPI plugin serves its document,
// under the base path.
const openAPIPath = "/open-api/generate-schema"

// apiOp is one served route as the OpenAPI document lists it; rt is nil
// for the routes outside the feature tables (probes, /ok, /error, the
// document itself).
type apiOp struct {
	method, path, tag string
	rt                *endpoint.Route
}

// openAPIDocument is the OpenAPI 3.1 document of ops, generated from the
// route table and each route's input struct (never written by hand):
// request bodies and query parameters are the schemas that validate
// requests, session-only routes name the session cookie.
func openAPIDocument(baseURL string, ops []apiOp) ([]byte, error) {
	server := baseURL
	if u, err := url.Parse(baseURL); err == nil {
		server = u.Scheme + "://" + u.Host
	}
	errorBody := map[string]any{"$ref": "#/components/schemas/Error"}
	paths := map[string]map[string]any{}
	for _, op := range ops {
		path, pathParams := openAPIPathOf(op.path)
		o := map[string]any{
			"operationId": operationID(op.method, op.path),
			"tags":        []string{op.tag},
			"responses": map[string]any{
				"200":     map[string]any{"description": "Success"},
				"default": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": errorBody}}},
			},
		}
		params := pathParams
		if op.rt != nil {
			body, required, query := op.rt.Input().OpenAPI()
			params = append(params, query...)
			if body != nil && op.method != fiber.MethodGet {
				content := map[string]any{"application/json": map[string]any{"schema": body}}
				if op.rt.Spec.AllowForm {
					content["application/x-www-form-urlencoded"] = map[string]any{"schema": body}
				}
				o["requestBody"] = map[string]any{"required": required, "content": content}
			}
			if op.rt.Spec.Session == endpoint.SessionRequired {
				o["security"] = []map[string][]string{{"sessionCookie": {}}}
			}
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(op.method)] = o
	}
	return json.Marshal(map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "authd", "version": "1",
			"description": "better-auth 1.7's email-and-password API as authd serves it; generated from authd's route table."},
		"servers": []map[string]any{{"url": server}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": map[string]any{"Error": map[string]any{
				"type":       "object",
				"properties": map[string]any{"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}},
			}},
			"securitySchemes": map[string]any{"sessionCookie": map[string]any{
				"type": "apiKey", "in": "cookie", "name": "better-auth.session_token",
				"description": "the signed session token; __Secure-better-auth.session_token behind https",
			}},
		},
	})
}

// openAPIPathOf turns Fiber's ":name" segments into "{name}" with their
// parameter objects.
func openAPIPathOf(path string) (string, []map[string]any) {
	segs := strings.Split(path, "/")
	var params []map[string]any
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segs[i] = "{" + name + "}"
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
	}
	return strings.Join(segs, "/"), params
}

// operationID is e.g. "postSignInEmail" for POST /api/auth/sign-in/email.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '-' || r == ':' }) {
		if part == "api" || part == "auth" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
