package httpapi

import (
	"context"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// Anonymous is the actor recorded for requests without JWT claims.
const Anonymous = "anonymous"

// Caller is who made a request, as API Gateway's JWT authorizer verified it.
type Caller struct {
	Actor string // email claim, else sub
}

// CallerFrom reads the caller from the API Gateway request context. This is
// the one place that reads JWT claims.
func CallerFrom(ctx context.Context) Caller {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Caller{Actor: Anonymous}
	}
	claims := rc.Authorizer.JWT.Claims
	for _, name := range []string{"email", "sub"} {
		if v := claims[name]; v != "" {
			return Caller{Actor: v}
		}
	}
	return Caller{Actor: Anonymous}
}

// requestID is API Gateway's id of the request, for logs and error details.
func requestID(ctx context.Context) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok {
		return rc.RequestID
	}
	return ""
}
