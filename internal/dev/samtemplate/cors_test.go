package samtemplate_test

import (
	"slices"
	"strconv"
	"testing"
)

// TestHTTPAPICORS checks that the API's CORS configuration can be resolved
// before deploying (the local gateway applies it) and allows the same
// origins as the images bucket: the AllowedOrigins parameter.
func TestHTTPAPICORS(t *testing.T) {
	tmpl := repoTemplate(t)
	if len(tmpl.HTTPAPIs) != 1 {
		t.Fatalf("%d HttpApis, want 1", len(tmpl.HTTPAPIs))
	}
	for id, api := range tmpl.HTTPAPIs {
		cors := api.CORS
		if cors == nil {
			t.Fatalf("%s has no CorsConfiguration", id)
		}
		if !slices.Equal(cors.AllowOrigins, []string{"!Ref AllowedOrigins"}) {
			t.Errorf("%s allows origins %v, want the AllowedOrigins parameter", id, cors.AllowOrigins)
		}
		for _, list := range [][]string{cors.AllowOrigins, cors.AllowMethods, cors.AllowHeaders, cors.ExposeHeaders} {
			if _, err := tmpl.ResolveList(list); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		if age, err := tmpl.Resolve(cors.MaxAge); err != nil {
			t.Errorf("%s: MaxAge: %v", id, err)
		} else if n, err := strconv.Atoi(age); err != nil || n < 0 || n > 86400 {
			t.Errorf("%s: MaxAge %q, want seconds from 0 to 86400", id, age)
		}
		if !slices.Contains(cors.AllowHeaders, "Authorization") {
			t.Errorf("%s: AllowHeaders %v lacks Authorization, the JWT authorizer's identity source", id, cors.AllowHeaders)
		}
	}
}
