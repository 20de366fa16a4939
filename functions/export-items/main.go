// Command export-items is the ExportItems Lambda function, invoked by the
// export queue with one export job at a time (docs/exports.md).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/depot-inventory/depot/internal/lambdafn/exportfn"
)

func main() { lambda.Start(exportfn.MustHandler()) }
