// Command seed-default-location is the SeedDefaultLocation Lambda function,
// invoked by CloudFormation for the DefaultLocation custom resource: it
// makes sure the default location exists.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
)

func main() { lambda.Start(seedfn.MustHandler()) }
