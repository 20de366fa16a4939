// Package apifn wraps an API operation's net/http handler (internal/httpapi)
// in the API Gateway (HTTP API, payload 2.0) adapter, as its Lambda
// function's main runs it.
package apifn

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// Handler is what an API function's main passes to lambda.Start.
type Handler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// MustHandler builds the named API function from the environment, exiting
// (a Lambda init error) when it cannot.
func MustHandler(function string) Handler {
	route, ok := httpapi.RouteFor(function)
	if !ok {
		lambdafn.Exit(function, errors.New("no such function in the route table"))
	}
	s, err := lambdafn.LoadSettings(route.Grants, os.Getenv)
	if err != nil {
		lambdafn.Exit(function, err)
	}
	deps, err := Build(context.Background(), s)
	if err != nil {
		lambdafn.Exit(function, err)
	}
	h, err := New(function, deps)
	if err != nil {
		lambdafn.Exit(function, err)
	}
	return h
}

// New returns the Lambda handler of the named API function.
func New(function string, deps httpapi.Deps) (Handler, error) {
	h, err := httpapi.NewHandler(function, deps)
	if err != nil {
		return nil, err
	}
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return adapter.ProxyWithContext(httpapi.WithRawHeaders(ctx, ev.Headers), ev)
	}, nil
}

// Build makes the API handlers' dependencies from the settings and the AWS
// SDK's own configuration (region, credentials, AWS_ENDPOINT_URL*).
func Build(ctx context.Context, s lambdafn.Settings) (httpapi.Deps, error) {
	svc, err := lambdafn.NewService(ctx, s)
	if err != nil {
		return httpapi.Deps{}, err
	}
	return httpapi.Deps{Service: svc, Logger: svc.Logger, OpenAPI: OpenAPI, RolesClaim: s.RolesClaim}, nil
}

// OpenAPI is the API's document, which GetOpenAPI serves. It is nil unless
// the binary links package specfn, which sets it: only GetOpenAPI carries
// the document.
var OpenAPI []byte
