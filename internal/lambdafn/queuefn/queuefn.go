// Package queuefn links the SQS client into a function that sends jobs to
// a worker's queue: importing it (the generated main of such a function
// does) sets lambdafn.ConnectQueue. The other functions do without the
// SQS SDK, which would only make their binaries larger.
package queuefn

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/jobqueue"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/usecase"
)

func init() { lambdafn.ConnectQueue = Connect }

// Connect returns the queue at url, its calls counted as uses of grant.
func Connect(cfg aws.Config, url string, grant access.Grant) usecase.Queue {
	return jobqueue.New(sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, jobqueue.CountCalls(grant))
		if e := lambdafn.Endpoint("SQS"); e != nil {
			o.BaseEndpoint = e
		}
	}), url)
}
