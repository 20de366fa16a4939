// Package jobqueue is the usecase.Queue of the workers on Amazon SQS: a
// message per job, whose body names the job.
package jobqueue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithymw "github.com/aws/smithy-go/middleware"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/jobqueue/message"
)

// Queue sends job ids to one SQS queue.
type Queue struct {
	client *sqs.Client
	url    string
}

// New returns the queue at url; the client should count its calls with
// CountCalls(grant), grant being the queue's sqs:SendMessage grant.
func New(client *sqs.Client, url string) *Queue { return &Queue{client: client, url: url} }

// Send sends a message naming the job.
func (q *Queue) Send(ctx context.Context, jobID string) error {
	body, err := json.Marshal(message.Job{JobID: jobID})
	if err != nil {
		return err
	}
	if _, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("send job %s: %w", jobID, err)
	}
	return nil
}

// CountCalls is an SDK API option that records the client's calls in the
// request's callstats as uses of grant (the client talks to one queue).
func CountCalls(grant access.Grant) func(*smithymw.Stack) error {
	return callstats.SDKCalls("SQS", func(op string, _ any) []string {
		if op == "SendMessage" {
			return []string{grant.String()}
		}
		return []string{"sqs:" + op + " " + string(grant.Resource)}
	})
}
