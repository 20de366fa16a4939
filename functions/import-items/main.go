// Command import-items is the ImportItems Lambda function, invoked by S3
// for every import file uploaded and by the import queue for jobs handed
// over or retried (docs/csv.md).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/depot-inventory/depot/internal/lambdafn/importfn"
)

func main() { lambda.Start(importfn.MustHandler()) }
