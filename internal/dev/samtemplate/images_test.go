package samtemplate_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/jobqueue/message"
)

// The image pipeline (docs/images.md): browsers POST uploads to
// uploads/{itemId}/{uploadId}; S3 invokes MakeThumbnails for each, which
// writes under thumbnails/ and deletes the upload.
const (
	thumbnailerID = "MakeThumbnails"
	failuresID    = "ThumbnailFailures"
	uploadsPrefix = "uploads/"
)

func TestThumbnailerTrigger(t *testing.T) {
	fn, ok := repoTemplate(t).Functions[thumbnailerID]
	if !ok {
		t.Fatalf("template.yaml has no function %s", thumbnailerID)
	}
	if len(fn.HTTPRoutes) != 0 {
		t.Errorf("%s: has HttpApi events %+v, want none", thumbnailerID, fn.HTTPRoutes)
	}
	// Only objects created under uploads/: the function's own writes under
	// thumbnails/ must not invoke it again.
	want := []samtemplate.S3Event{{
		Event: "Upload", Bucket: "!Ref " + bucketID, Events: []string{"s3:ObjectCreated:*"}, Prefix: uploadsPrefix,
	}}
	if !slices.EqualFunc(fn.S3Events, want, func(a, b samtemplate.S3Event) bool {
		return a.Bucket == b.Bucket && slices.Equal(a.Events, b.Events) && a.Prefix == b.Prefix && a.Suffix == b.Suffix
	}) {
		t.Errorf("%s: S3 events %+v, want exactly %+v", thumbnailerID, fn.S3Events, want)
	}
}

// TestS3TriggersDoNotLoop checks that no S3-triggered function may write
// objects its own event filter matches. An event of browser POST uploads
// only (s3:ObjectCreated:Post) is not one a function's own writes make:
// the SDK writes by PUT and multipart upload.
func TestS3TriggersDoNotLoop(t *testing.T) {
	tmpl := repoTemplate(t)
	for id, fn := range tmpl.Functions {
		for _, ev := range fn.S3Events {
			if slices.Equal(ev.Events, []string{"s3:ObjectCreated:Post"}) {
				continue
			}
			if ev.Prefix == "" {
				t.Errorf("%s: S3 event %s has no prefix filter, so the function's own writes would trigger it", id, ev.Event)
				continue
			}
			for _, g := range fn.Grants {
				if g.Action != "s3:PutObject" {
					continue
				}
				pattern, ok := objectPattern(tmpl, g.Resource)
				if !ok {
					continue // reported by TestResourceScopes
				}
				literal, _, _ := strings.Cut(pattern, "*")
				if strings.HasPrefix(literal, ev.Prefix) || strings.HasPrefix(ev.Prefix, literal) {
					t.Errorf("%s: may put objects %q, which its S3 event %s (prefix %q) would be invoked for",
						id, pattern, ev.Event, ev.Prefix)
				}
			}
		}
	}
}

func TestThumbnailerFailures(t *testing.T) {
	tmpl := repoTemplate(t)
	fn := tmpl.Functions[thumbnailerID]
	cfg := fn.EventInvokeConfig
	if cfg == nil {
		t.Fatalf("%s: no EventInvokeConfig", thumbnailerID)
	}
	if cfg.MaximumRetryAttempts != "2" {
		t.Errorf("%s: MaximumRetryAttempts = %q, want 2", thumbnailerID, cfg.MaximumRetryAttempts)
	}
	if cfg.MaximumEventAgeInSeconds == "" {
		t.Errorf("%s: MaximumEventAgeInSeconds is not set", thumbnailerID)
	}
	want := samtemplate.Destination{Type: "SQS", Destination: "!GetAtt " + failuresID + ".Arn"}
	if cfg.OnFailure == nil || *cfg.OnFailure != want {
		t.Errorf("%s: OnFailure = %+v, want %+v", thumbnailerID, cfg.OnFailure, want)
	}
	if got := tmpl.Types[failuresID]; got != "AWS::SQS::Queue" {
		t.Errorf("%s is a %q, want an AWS::SQS::Queue", failuresID, got)
	}
	if got := tmpl.Outputs["ThumbnailFailuresQueueUrl"]; got.Value != "!Ref "+failuresID || got.Condition != "" {
		t.Errorf("ThumbnailFailuresQueueUrl output = %+v, want !Ref %s", got, failuresID)
	}
	// SAM grants sqs:SendMessage on the destination itself.
	if slices.Contains(fn.PolicyActions, "sqs:SendMessage") {
		t.Errorf("%s: grants sqs:SendMessage itself; SAM does for the OnFailure destination", thumbnailerID)
	}
}

// TestNoCircularDependency: SAM adds to the bucket a notification that
// depends on the function its S3 event targets, so that function must not
// depend on the bucket (a !Ref or !GetAtt of it in its environment or
// policies). cfn-lint and `sam validate --lint` do not see this cycle, as it
// only exists after SAM's transform; CloudFormation would reject the stack.
// Every function names the bucket as its BucketName spells it.
func TestNoCircularDependency(t *testing.T) {
	tmpl := repoTemplate(t)
	triggers := map[string]bool{}
	for _, fn := range tmpl.Functions {
		for _, ev := range fn.S3Events {
			id, ok := strings.CutPrefix(ev.Bucket, "!Ref ")
			if !ok {
				t.Errorf("%s: S3 event %s: Bucket = %q, want !Ref of a bucket of the template", fn.LogicalID, ev.Event, ev.Bucket)
			}
			triggers[id] = true
		}
	}
	if !triggers[bucketID] {
		t.Errorf("no function is triggered by %s", bucketID)
	}
	for id, fn := range tmpl.Functions {
		for _, ref := range fn.References {
			if triggers[ref] {
				t.Errorf("%s refers to %s, whose notifications invoke a function: a circular dependency; spell out its BucketName", id, ref)
			}
		}
	}

	b := tmpl.Buckets[bucketID]
	if !strings.HasPrefix(b.Name, "!Sub ") {
		t.Fatalf("%s: BucketName = %q, want an explicit !Sub", bucketID, b.Name)
	}
	for id, fn := range tmpl.Functions {
		if got := fn.Env["BUCKET_NAME"]; got != b.Name {
			t.Errorf("%s: BUCKET_NAME = %q, want %s's BucketName %q", id, got, bucketID, b.Name)
		}
	}
}

func TestImagesBucket(t *testing.T) {
	b, ok := repoTemplate(t).Buckets[bucketID]
	if !ok {
		t.Fatalf("template.yaml has no bucket %s", bucketID)
	}

	// Unprocessed uploads expire after a day and exports after 7; nothing
	// else ever expires.
	var expireUploads, expireExports, expireImports, abortMultipart bool
	for _, r := range b.LifecycleRules {
		if r.Status != "Enabled" {
			continue
		}
		if r.ExpirationInDays != "" {
			switch r.Prefix {
			case uploadsPrefix:
				expireUploads = expireUploads || r.ExpirationInDays == "1"
			case "exports/":
				expireExports = expireExports || r.ExpirationInDays == "7"
			case "imports/":
				expireImports = expireImports || r.ExpirationInDays == "7"
			default:
				t.Errorf("lifecycle rule %s expires objects under %q; only %s, exports/ and imports/ may expire", r.ID, r.Prefix, uploadsPrefix)
			}
		}
		if r.AbortIncompleteMultipartUploadDays == "1" && r.Prefix == "" {
			abortMultipart = true
		}
	}
	if !expireUploads {
		t.Errorf("no enabled lifecycle rule expires %s after 1 day: %+v", uploadsPrefix, b.LifecycleRules)
	}
	if !expireImports {
		t.Errorf("no enabled lifecycle rule expires imports/ after 7 days: %+v", b.LifecycleRules)
	}
	if !expireExports {
		t.Errorf("no enabled lifecycle rule expires exports/ after 7 days: %+v", b.LifecycleRules)
	}
	if !abortMultipart {
		t.Errorf("no enabled lifecycle rule aborts incomplete multipart uploads after 1 day in the whole bucket: %+v", b.LifecycleRules)
	}

	// Browsers on the API's origins POST uploads and GET images.
	var post bool
	for _, r := range b.CORSRules {
		if !slices.Equal(r.AllowedOrigins, []string{"!Ref AllowedOrigins"}) {
			t.Errorf("CORS rule %s allows origins %v, want the AllowedOrigins parameter", r.ID, r.AllowedOrigins)
		}
		if slices.Contains(r.AllowedMethods, "POST") {
			post = true
		}
		for _, m := range r.AllowedMethods {
			if m == "PUT" || m == "DELETE" {
				t.Errorf("CORS rule %s allows %s; browsers only POST uploads and GET images", r.ID, m)
			}
		}
	}
	if !post {
		t.Errorf("no CORS rule allows POST (browser uploads): %+v", b.CORSRules)
	}
}

// TestEventsForEveryFunction checks that every function of the template has
// a sample event, events/<dir>.json, for `sam local invoke -e`; the route
// events are checked by TestEventsMatchRoutes, S3 and custom resource
// events here.
func TestEventsForEveryFunction(t *testing.T) {
	resources := customResourceFunctions(t)
	for id, fn := range repoTemplate(t).Functions {
		path := filepath.Join(repoRoot, "events", functionDir(id)+".json")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if len(fn.SQSEvents) > 0 && len(fn.S3Events) == 0 {
			checkSQSEvent(t, id, data)
			continue
		}
		if len(fn.ScheduleEvents) > 0 {
			checkScheduledEvent(t, id, data)
			continue
		}
		if len(fn.S3Events) == 0 {
			if c, ok := resources[id]; ok {
				checkCustomResourceEvent(t, id, c, data)
				continue
			}
			if _, ok := httpapi.RouteFor(id); !ok {
				t.Errorf("%s: neither a route, an S3 event nor a custom resource; which events should events/%s.json hold?", id, functionDir(id))
			}
			continue
		}
		var ev events.S3Event
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		checkS3Event(t, id, fn.S3Events[0], ev)
	}
}

// checkScheduledEvent: a sample event of a schedule is what EventBridge
// sends: a "Scheduled Event" from aws.events naming its rule.
func checkScheduledEvent(t *testing.T, id string, data []byte) {
	t.Helper()
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" ||
		ev.ID == "" || ev.Time.IsZero() || len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], "arn:aws:events:") {
		t.Errorf("%s: sample scheduled event %+v (%v) is not one EventBridge sends", id, ev, err)
	}
}

// checkSQSEvent: a sample SQS event holds one message (the event sources
// deliver one at a time) naming a job, with its receive count.
func checkSQSEvent(t *testing.T, id string, data []byte) {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(data, &ev); err != nil || len(ev.Records) != 1 {
		t.Errorf("%s: sample SQS event: %v, %d records; want 1", id, err, len(ev.Records))
		return
	}
	m := ev.Records[0]
	if m.EventSource != "aws:sqs" || m.MessageId == "" || m.Attributes["ApproximateReceiveCount"] == "" {
		t.Errorf("%s: sample message %+v is not an SQS delivery", id, m)
	}
	if _, err := message.Parse(m.Body); err != nil {
		t.Errorf("%s: sample message body: %v", id, err)
	}
}

func checkS3Event(t *testing.T, id string, want samtemplate.S3Event, ev events.S3Event) {
	t.Helper()
	if len(ev.Records) == 0 {
		t.Errorf("%s: sample S3 event has no Records", id)
		return
	}
	r := ev.Records[0]
	if r.EventSource != "aws:s3" || r.EventVersion == "" || r.AWSRegion == "" || r.EventTime.IsZero() {
		t.Errorf("%s: sample record has eventSource %q, eventVersion %q, awsRegion %q, eventTime %v; want an S3 notification",
			id, r.EventSource, r.EventVersion, r.AWSRegion, r.EventTime)
	}
	// "s3:ObjectCreated:*" in the template is "ObjectCreated:Post" and the
	// like in a record.
	if !slices.ContainsFunc(want.Events, func(pattern string) bool {
		p := strings.TrimPrefix(pattern, "s3:")
		if base, ok := strings.CutSuffix(p, "*"); ok {
			return strings.HasPrefix(r.EventName, base)
		}
		return r.EventName == p
	}) {
		t.Errorf("%s: sample record's eventName %q matches none of %v", id, r.EventName, want.Events)
	}
	if r.S3.Bucket.Name == "" || r.S3.Object.Size <= 0 || r.S3.Object.ETag == "" || r.S3.Object.Sequencer == "" {
		t.Errorf("%s: sample record lacks the bucket name or the object's size, eTag or sequencer: %+v", id, r.S3)
	}
	key, err := url.QueryUnescape(r.S3.Object.Key) // S3 form-encodes keys in events
	if err != nil {
		t.Errorf("%s: sample record's key %q: %v", id, r.S3.Object.Key, err)
	}
	if !strings.HasPrefix(key, want.Prefix) || !strings.HasSuffix(key, want.Suffix) {
		t.Errorf("%s: sample record's key %q does not match the event filter (prefix %q, suffix %q)", id, key, want.Prefix, want.Suffix)
	}
}
