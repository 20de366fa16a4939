// Command resume-shipments is the ResumeShipments Lambda function, invoked
// every minute by an EventBridge schedule: it finishes the shipment
// transitions a process left in progress (docs/shipments.md).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/depot-inventory/depot/internal/lambdafn/resumefn"
)

func main() { lambda.Start(resumefn.MustHandler()) }
