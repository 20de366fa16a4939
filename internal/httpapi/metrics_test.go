package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/depot-inventory/depot/internal/emf"
)

// Each request's log line carries its metrics in the Embedded Metric
// Format: a request, whether it was a 5xx, the problem's code by which
// errors are counted, and the DynamoDB figures.
func TestRequestLineMetrics(t *testing.T) {
	none := map[string]string{}
	base := func(serverError float64) []emf.Datum {
		return []emf.Datum{
			datum(emf.Requests, emf.Count, none, 1),
			datum(emf.ServerErrors, emf.Count, none, serverError),
			datum(emf.DDBCalls, emf.Count, none, 0),
			datum(emf.DDBMs, emf.Milliseconds, none, 0),
			datum(emf.DDBThrottles, emf.Count, none, 0),
		}
	}
	errorOf := func(code string) emf.Datum {
		return datum(emf.Errors, emf.Count, map[string]string{emf.Code: code}, 1)
	}
	viewer := map[string]string{"email": "a@example.com", "cognito:groups": "[viewer]"}
	for _, c := range []struct {
		name, function, path string
		claims               map[string]string
		status               int
		want                 []emf.Datum
	}{
		{"ok", "Health", "/health", nil, 200, base(0)},
		{"refused", "GetItem", "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA", nil, 401, append(base(0), errorOf(codeUnauthorized))},
		// No store: the operation panics, answered 500 internal_error.
		{"failed", "GetItem", "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA", viewer, 500, append(base(1), errorOf("internal_error"))},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			h, err := NewHandler(c.function, Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ev := events.APIGatewayV2HTTPRequest{RawPath: c.path, RequestContext: events.APIGatewayV2HTTPRequestContext{
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: c.path}}}
			if c.claims != nil {
				ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
					JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c.claims}}
			}
			resp, err := httpadapter.NewV2(h).ProxyWithContext(context.Background(), ev)
			if err != nil || resp.StatusCode != c.status {
				t.Fatalf("status %d (%v), want %d", resp.StatusCode, err, c.status)
			}
			line := bytes.TrimSpace(logs.Bytes())
			line = line[bytes.LastIndexByte(line, '\n')+1:]
			got, err := emf.Extract(line)
			if err != nil {
				t.Fatalf("%v\n%s", err, line)
			}
			// In the line's order: the request's, DynamoDB's, the error's.
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("metrics\n%+v\nwant\n%+v\n%s", got, c.want, line)
			}
		})
	}
}

func datum(name string, unit emf.Unit, dims map[string]string, values ...float64) emf.Datum {
	return emf.Datum{Namespace: emf.Namespace, Name: name, Unit: unit, Dimensions: dims, Values: values}
}
