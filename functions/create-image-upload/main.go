// Command create-image-upload is the CreateImageUpload Lambda function.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/depot-inventory/depot/internal/lambdafn"
)

func main() { lambda.Start(lambdafn.MustHandler("CreateImageUpload")) }
