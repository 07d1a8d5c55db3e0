// Package apierror is the HTTP-only failure of the adapter's own checks
// (media type, JSON syntax, validation, origin checks, route quirks): a
// better-auth status, code and message that the root package's error
// mapping sends as they are.
package apierror

import "strconv"

// Error is better-auth's APIError. An empty Code sends {"message"} alone; an
// empty Message sends an empty body.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return strconv.Itoa(e.Status) + " " + e.Code + ": " + e.Message }

// New returns an Error.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Forbidden is a 403, the answer of every origin and redirect check.
func Forbidden(code, message string) *Error { return New(403, code, message) }

// BadRequest is a 400.
func BadRequest(code, message string) *Error { return New(400, code, message) }
