package httpfiber

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	if err := (Options{BaseURL: testBaseURL, Secret: []byte("s")}).Validate(); err != nil {
		t.Fatal(err)
	}
	err := Options{BaseURL: "localhost:8100", BasePath: "api/", TrustedProxies: []string{"10.0.0.0/33", "nope"}, BodyLimit: -1}.Validate()
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{"BaseURL", "Secret", "BasePath", "10.0.0.0/33", "nope", "BodyLimit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
}
