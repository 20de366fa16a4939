package localrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/jobqueue/message"
)

// Queue stands in, in this process, for an SQS queue and the Lambda event
// source mapping that feeds its worker: each message is delivered alone
// (batch size 1) to the worker's handler, with a deadline of the
// function's timeout and its receive count; one the handler reports as a
// batch item failure (or fails whole) is delivered again after
// RedeliverAfter, the stand-in of the visibility timeout, up to
// MaxReceives times, then dropped with a log line, as the redrive policy
// moves it to the dead-letter queue. At most MaxConcurrency deliveries run
// at once (the mapping's MaximumConcurrency). The messages are the ones the
// SQS client sends (package jobqueue), and sending counts as the function's
// sqs:SendMessage grant, as the SDK's call would.
type Queue struct {
	grant          access.Grant
	timeout        time.Duration
	maxReceives    int
	redeliverAfter time.Duration
	logger         *slog.Logger
	slots          chan struct{}

	mu      sync.Mutex
	target  func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	pending sync.WaitGroup
	dropped []string // job ids of messages moved to the dead-letter queue
}

// QueueOptions configure a Queue.
type QueueOptions struct {
	Grant          access.Grant  // the sqs:SendMessage grant of the queue
	Timeout        time.Duration // the worker's timeout (default 15 minutes)
	MaxReceives    int           // the redrive policy's maxReceiveCount (default 5)
	RedeliverAfter time.Duration // default 1s (SQS: the visibility timeout)
	MaxConcurrency int           // default 2
	Logger         *slog.Logger
}

// NewQueue returns a queue that delivers to nothing until SetTarget.
func NewQueue(o QueueOptions) *Queue {
	q := &Queue{grant: o.Grant, timeout: o.Timeout, maxReceives: o.MaxReceives, redeliverAfter: o.RedeliverAfter,
		logger: o.Logger, slots: make(chan struct{}, max(o.MaxConcurrency, 1))}
	if q.timeout <= 0 {
		q.timeout = 15 * time.Minute
	}
	if q.maxReceives <= 0 {
		q.maxReceives = 5
	}
	if q.redeliverAfter <= 0 {
		q.redeliverAfter = time.Second
	}
	if q.logger == nil {
		q.logger = slog.Default()
	}
	if o.MaxConcurrency <= 0 {
		q.slots = make(chan struct{}, 2)
	}
	return q
}

// SetTarget sets the worker's handler.
func (q *Queue) SetTarget(h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) {
	q.mu.Lock()
	q.target = h
	q.mu.Unlock()
}

// Send queues a message naming the job.
func (q *Queue) Send(ctx context.Context, jobID string) error {
	callstats.Action(ctx, q.grant.String())
	body, err := json.Marshal(message.Job{JobID: jobID})
	if err != nil {
		return err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	q.pending.Add(1)
	go q.deliver(hex.EncodeToString(id), string(body), jobID, 1)
	return nil
}

// Wait returns once no message is waiting or being delivered.
func (q *Queue) Wait() { q.pending.Wait() }

// Dropped returns the job ids of the messages given up on.
func (q *Queue) Dropped() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.dropped)
}

func (q *Queue) deliver(messageID, body, jobID string, receive int) {
	defer q.pending.Done()
	q.mu.Lock()
	target := q.target
	q.mu.Unlock()
	ok := false
	if target != nil {
		q.slots <- struct{}{}
		ctx, cancel := context.WithTimeout(context.Background(), q.timeout)
		ev := events.SQSEvent{Records: []events.SQSMessage{{
			MessageId: messageID, Body: body, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receive),
				"SentTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10)},
		}}}
		resp, err := target(ctx, ev)
		cancel()
		<-q.slots
		ok = err == nil && len(resp.BatchItemFailures) == 0
		if err != nil {
			q.logger.Warn("queue: the worker failed", "job", jobID, "receive", receive, "error", err.Error())
		}
	}
	if ok {
		return
	}
	if receive >= q.maxReceives {
		q.logger.Error("queue: message moved to the dead-letter queue", "job", jobID, "receives", receive,
			"why", fmt.Sprintf("not processed in %d receives", receive))
		q.mu.Lock()
		q.dropped = append(q.dropped, jobID)
		q.mu.Unlock()
		return
	}
	q.pending.Add(1)
	time.AfterFunc(q.redeliverAfter, func() { q.deliver(messageID, body, jobID, receive+1) })
}
