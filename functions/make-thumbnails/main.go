// Command make-thumbnails is the MakeThumbnails Lambda function, invoked by
// S3 for every object created under uploads/.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/depot-inventory/depot/internal/lambdafn/thumbfn"
)

func main() { lambda.Start(thumbfn.MustHandler()) }
