package samtemplate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
	"github.com/depot-inventory/depot/internal/lambdafn/auditfn"
)

// TestAuditRunsDaily: AuditStock is invoked by one daily schedule and by
// nothing else, with the time a whole-table scan may need, and may list
// the images bucket itself (not an object prefix: ListBucket is a bucket
// action). Its policy is its grants (TestPoliciesAreTheDeclaredGrants).
func TestAuditRunsDaily(t *testing.T) {
	tmpl := repoTemplate(t)
	fn, ok := tmpl.Functions[auditfn.Function]
	if !ok {
		t.Fatalf("template.yaml has no %s", auditfn.Function)
	}
	if want := []samtemplate.ScheduleEvent{{Event: "Daily", Schedule: "rate(1 day)"}}; !slices.Equal(fn.ScheduleEvents, want) ||
		len(fn.HTTPRoutes)+len(fn.S3Events)+len(fn.SQSEvents) != 0 {
		t.Errorf("%s: schedules %+v and %d other events; want %+v alone", auditfn.Function, fn.ScheduleEvents,
			len(fn.HTTPRoutes)+len(fn.S3Events)+len(fn.SQSEvents), want)
	}
	if fn.Timeout != "900" {
		t.Errorf("%s: Timeout %s, want 900 (the most Lambda allows: the audit scans the whole table)", auditfn.Function, fn.Timeout)
	}
	bucket, err := objectARN(tmpl, "")
	if err != nil {
		t.Fatal(err)
	}
	bucket = strings.TrimSuffix(bucket, "/")
	if !slices.Contains(fn.Grants, samtemplate.Grant{Action: "s3:ListBucket", Resource: bucket}) {
		t.Errorf("%s: grants %v, want s3:ListBucket on %s", auditfn.Function, fn.Grants, bucket)
	}
}

// TestScheduleEvents: a Schedule event is read with its expression.
func TestScheduleEvents(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 3 * * ? *)
            Enabled: false
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.Functions["Fn"].ScheduleEvents, []samtemplate.ScheduleEvent{{"Nightly", "cron(0 3 * * ? *)", "false"}}; !slices.Equal(got, want) {
		t.Errorf("schedules %+v, want %+v", got, want)
	}
}
