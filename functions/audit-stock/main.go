// Command audit-stock is the AuditStock Lambda function, invoked once a
// day by an EventBridge schedule: it audits the table and the image
// objects and reports drift as the AuditDrift metric.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/depot-inventory/depot/internal/lambdafn/auditfn"
)

func main() { lambda.Start(auditfn.MustHandler()) }
