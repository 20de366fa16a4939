// Package specfn links the OpenAPI document into the function that serves
// it: importing it (GetOpenAPI's generated main does, and so does the local
// runtime) sets apifn.OpenAPI. The other functions do without the
// document's bytes.
package specfn

import (
	depot "github.com/depot-inventory/depot"
	"github.com/depot-inventory/depot/internal/lambdafn/apifn"
)

func init() { apifn.OpenAPI = depot.OpenAPIYAML }
