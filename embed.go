// Package depot holds the artefacts that both the Lambda functions and the
// local runtime read at run time: the OpenAPI document served by GetOpenAPI
// and the SAM template the local runtime builds its table from.
package depot

import _ "embed"

// OpenAPIYAML is the API contract, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// TemplateYAML is the SAM template; the local runtime creates its table from
// it so that local and deployed tables cannot drift.
//
//go:embed template.yaml
var TemplateYAML []byte
