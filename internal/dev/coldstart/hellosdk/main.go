// Command hellosdk is hello (../hello) with the AWS SDK's part of every
// function's wiring and nothing of Depot's: it links the DynamoDB and S3
// clients and makes them, from a configuration built from the environment
// as Lambda gives it (region and static credentials; no shared files, no
// credential chain), before it starts. depot-coldstart reports it beside
// hello: their difference is what linking and making the SDK's clients
// costs a cold start, which no change to Depot's own init can remove.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	cfg := aws.Config{
		Region: os.Getenv("AWS_REGION"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{
				AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
				SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
				SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
			}, nil
		}),
	}
	db := dynamodb.NewFromConfig(cfg)
	files := s3.NewFromConfig(cfg)
	lambda.Start(func() (string, error) {
		_, _ = db, files
		return "hello", nil
	})
}
