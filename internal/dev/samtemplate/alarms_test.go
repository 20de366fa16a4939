package samtemplate_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/lambdafn/exportfn"
	"github.com/depot-inventory/depot/internal/lambdafn/importfn"
	"github.com/depot-inventory/depot/internal/lambdafn/thumbfn"
)

// alarmTopic is the topic every alarm notifies.
const alarmTopic = "AlarmTopic"

// metricRef is a metric an alarm watches.
type metricRef struct {
	Namespace, Name string
	Dimensions      map[string]string // by name, values as written
}

func (m metricRef) String() string {
	dims := ""
	for _, k := range slices.Sorted(maps.Keys(m.Dimensions)) {
		dims += " " + k + "=" + m.Dimensions[k]
	}
	return m.Namespace + "/" + m.Name + dims
}

// alarmMetrics reads the metrics an alarm watches: its own (Namespace,
// MetricName, Dimensions) or its metric math's (Metrics[].MetricStat).
func alarmMetrics(props map[string]any) ([]metricRef, error) {
	dims := func(v any) map[string]string {
		out := map[string]string{}
		for _, d := range asList(v) {
			out[str(samtemplate.Get(d, "Name"))] = str(samtemplate.Get(d, "Value"))
		}
		return out
	}
	if ns := str(props["Namespace"]); ns != "" {
		return []metricRef{{ns, str(props["MetricName"]), dims(props["Dimensions"])}}, nil
	}
	var out []metricRef
	returned := 0
	for _, m := range asList(props["Metrics"]) {
		if str(samtemplate.Get(m, "ReturnData")) != "false" {
			returned++
		}
		if expr := str(samtemplate.Get(m, "Expression")); expr != "" {
			continue
		}
		metric := samtemplate.Get(m, "MetricStat", "Metric")
		if metric == nil {
			return nil, fmt.Errorf("metric %v is neither a MetricStat nor an Expression", m)
		}
		out = append(out, metricRef{str(samtemplate.Get(metric, "Namespace")), str(samtemplate.Get(metric, "MetricName")),
			dims(samtemplate.Get(metric, "Dimensions"))})
	}
	if len(out) == 0 || returned != 1 {
		return nil, fmt.Errorf("no metric, or %d results (want 1: the others ReturnData: false)", returned)
	}
	return out, nil
}

// awsMetrics are the metrics of AWS's namespaces the alarms may watch, and
// the dimension that names the resource of the template they are of, with
// the resource type it must be and how the dimension's value names it.
var awsMetrics = map[string]struct {
	names     []string
	dimension string
	typ       string
	ref       func(id string) string
}{
	"AWS/ApiGateway": {[]string{"4xx", "5xx", "Count", "Latency", "IntegrationLatency", "DataProcessed"},
		"ApiId", "AWS::Serverless::HttpApi", func(id string) string { return "!Ref " + id }},
	"AWS/SQS": {[]string{"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "NumberOfMessagesSent"},
		"QueueName", "AWS::SQS::Queue", func(id string) string { return "!GetAtt " + id + ".QueueName" }},
	"AWS/Lambda": {[]string{"Errors", "Throttles", "Invocations", "Duration", "ConcurrentExecutions"},
		"FunctionName", "AWS::Serverless::Function", func(id string) string { return "!Ref " + id }},
}

// checkMetric reports why a metric does not exist: an EMF metric must be
// one the code emits (package emf's directives, which the lines' tests
// check that the lines carry), with one of its dimension sets; an AWS
// metric must be one its service publishes, of a resource of the template.
func checkMetric(tmpl *samtemplate.Template, m metricRef) error {
	if m.Namespace == emf.Namespace {
		names := slices.Sorted(maps.Keys(m.Dimensions))
		for _, d := range emf.All {
			if !slices.ContainsFunc(d.Metrics, func(x emf.Metric) bool { return x.Name == m.Name }) {
				continue
			}
			for _, set := range d.Dimensions {
				if slices.Equal(slices.Sorted(slices.Values(set)), names) {
					return nil
				}
			}
			return fmt.Errorf("%s: Depot emits %s with the dimension sets %v, not %v", m, m.Name, d.Dimensions, names)
		}
		return fmt.Errorf("%s: no line emits a metric %s (package emf)", m, m.Name)
	}
	aws, ok := awsMetrics[m.Namespace]
	if !ok {
		return fmt.Errorf("%s: namespace %s is neither Depot's nor one this test knows", m, m.Namespace)
	}
	if !slices.Contains(aws.names, m.Name) {
		return fmt.Errorf("%s: %s publishes no metric %s this test knows", m, m.Namespace, m.Name)
	}
	if len(m.Dimensions) != 1 {
		return fmt.Errorf("%s: want exactly the dimension %s", m, aws.dimension)
	}
	for id, typ := range tmpl.Types {
		if typ == aws.typ && m.Dimensions[aws.dimension] == aws.ref(id) {
			return nil
		}
	}
	return fmt.Errorf("%s: %s is not %s of a %s of the template", m, aws.dimension, aws.ref("<id>"), aws.typ)
}

// TestAlarmsWatchRealMetrics: every alarm watches metrics that exist — one
// a Depot line emits, or one AWS publishes for a resource of the template
// — and notifies AlarmTopic, going off and coming back.
func TestAlarmsWatchRealMetrics(t *testing.T) {
	tmpl := repoTemplate(t)
	n := 0
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		r := tmpl.Resources[id]
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		n++
		metrics, err := alarmMetrics(r.Properties)
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
		for _, m := range metrics {
			if err := checkMetric(tmpl, m); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		for _, key := range []string{"AlarmActions", "OKActions"} {
			if actions := strs(r.Properties[key]); !slices.Equal(actions, []string{"!Ref " + alarmTopic}) {
				t.Errorf("%s: %s = %v, want [!Ref %s]", id, key, actions, alarmTopic)
			}
		}
		if str(r.Properties["TreatMissingData"]) != "notBreaching" {
			t.Errorf("%s: TreatMissingData = %v, want notBreaching (no traffic is no trouble)", id, r.Properties["TreatMissingData"])
		}
		if str(r.Properties["AlarmDescription"]) == "" {
			t.Errorf("%s: no AlarmDescription: the notice must say what went wrong", id)
		}
	}
	if n == 0 {
		t.Fatal("template.yaml has no alarm")
	}
}

// TestAlarmTopic: the alarms' topic exists, and an email subscription to it
// is made only when AlarmEmail is given.
func TestAlarmTopic(t *testing.T) {
	tmpl := repoTemplate(t)
	if tmpl.Types[alarmTopic] != "AWS::SNS::Topic" {
		t.Fatalf("%s is a %q, want an AWS::SNS::Topic", alarmTopic, tmpl.Types[alarmTopic])
	}
	p, ok := tmpl.Parameters["AlarmEmail"]
	if !ok || !p.HasDefault || p.Default != "" {
		t.Errorf("parameter AlarmEmail = %+v, want one that defaults to empty (optional)", p)
	}
	var subs []string
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::SNS::Subscription" && str(r.Properties["TopicArn"]) == "!Ref "+alarmTopic {
			subs = append(subs, id)
			if r.Condition == "" || str(r.Properties["Protocol"]) != "email" || str(r.Properties["Endpoint"]) != "!Ref AlarmEmail" {
				t.Errorf("%s: %+v, want an email subscription of !Ref AlarmEmail under a condition", id, r)
			}
		}
	}
	if len(subs) != 1 {
		t.Errorf("subscriptions to %s: %v, want one (AlarmEmail's)", alarmTopic, subs)
	}
	if got := tmpl.Outputs["AlarmTopicArn"].Value; got != "!Ref "+alarmTopic {
		t.Errorf("output AlarmTopicArn = %q, want !Ref %s", got, alarmTopic)
	}
}

// TestTheAlarmsAnOperatorNeeds: issue 11's alarms are all there — the
// API's 5xx rate, DynamoDB throttling, any message in a failure queue, the
// audit's drift, and the workers' errors — each firing on the first sign
// (above 0) but the rate's.
func TestTheAlarmsAnOperatorNeeds(t *testing.T) {
	tmpl := repoTemplate(t)
	watched := map[string][]string{} // metric → alarms
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		metrics, _ := alarmMetrics(r.Properties)
		for _, m := range metrics {
			watched[m.String()] = append(watched[m.String()], id)
		}
	}
	alarmOn := func(what string, m metricRef, zero bool) {
		t.Helper()
		ids := watched[m.String()]
		if len(ids) == 0 {
			t.Errorf("%s: no alarm watches %s", what, m)
			return
		}
		for _, id := range ids {
			p := tmpl.Resources[id].Properties
			if zero && (str(p["ComparisonOperator"]) != "GreaterThanThreshold" || str(p["Threshold"]) != "0") {
				t.Errorf("%s: %s fires at %v %v, want GreaterThanThreshold 0", what, id, p["ComparisonOperator"], p["Threshold"])
			}
		}
	}
	api := metricRef{"AWS/ApiGateway", "5xx", map[string]string{"ApiId": "!Ref HttpApi"}}
	alarmOn("5xx rate", api, false)
	if ids := watched[api.String()]; len(ids) > 0 {
		if expr := mathExpression(tmpl.Resources[ids[0]].Properties); !strings.Contains(expr, "/") {
			t.Errorf("5xx rate: %s's expression %q is no rate", ids[0], expr)
		}
	}
	alarmOn("throttles", metricRef{emf.Namespace, emf.DDBThrottles, map[string]string{}}, true)
	alarmOn("audit drift", metricRef{emf.Namespace, emf.AuditDrift, map[string]string{}}, true)
	for _, q := range failureQueues(tmpl) {
		alarmOn("failure queue "+q, metricRef{"AWS/SQS", "ApproximateNumberOfMessagesVisible",
			map[string]string{"QueueName": "!GetAtt " + q + ".QueueName"}}, true)
	}
	for _, fn := range []string{thumbfn.Function, exportfn.Function, importfn.Function} {
		alarmOn("worker "+fn, metricRef{"AWS/Lambda", "Errors", map[string]string{"FunctionName": "!Ref " + fn}}, true)
	}
}

// failureQueues are the queues that hold failed work: functions' OnFailure
// destinations and queues' dead-letter queues.
func failureQueues(tmpl *samtemplate.Template) []string {
	set := map[string]bool{}
	for _, fn := range tmpl.Functions {
		if c := fn.EventInvokeConfig; c != nil && c.OnFailure != nil && c.OnFailure.Type == "SQS" {
			set[strings.TrimSuffix(strings.TrimPrefix(c.OnFailure.Destination, "!GetAtt "), ".Arn")] = true
		}
	}
	for _, r := range tmpl.Resources {
		if dlq := str(samtemplate.Get(r.Properties, "RedrivePolicy", "deadLetterTargetArn")); r.Type == "AWS::SQS::Queue" && dlq != "" {
			set[strings.TrimSuffix(strings.TrimPrefix(dlq, "!GetAtt "), ".Arn")] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func mathExpression(props map[string]any) string {
	for _, m := range asList(props["Metrics"]) {
		if e := str(samtemplate.Get(m, "Expression")); e != "" {
			return e
		}
	}
	return ""
}

// TestFailureQueuesSeen: the queues the alarms must cover are the ones
// the template has (so that a new failure queue needs an alarm).
func TestFailureQueuesSeen(t *testing.T) {
	if got := failureQueues(repoTemplate(t)); !slices.Equal(got, []string{"JobFailures", "ThumbnailFailures"}) {
		t.Errorf("failure queues %v", got)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// strs reads a list of strings, or one string as a list of one.
func strs(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, e := range asList(v) {
		out = append(out, str(e))
	}
	return out
}

// TestCheckMetricRefuses: what the alarm check takes for a missing metric.
func TestCheckMetricRefuses(t *testing.T) {
	tmpl := repoTemplate(t)
	for _, m := range []metricRef{
		{emf.Namespace, "ddbThrottle", nil},                                         // no line emits it
		{emf.Namespace, emf.DDBThrottles, map[string]string{"function": "GetItem"}}, // not with that dimension
		{emf.Namespace, emf.Errors, nil},                                            // only with its code
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", map[string]string{"QueueName": "!GetAtt Nowhere.QueueName"}},
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", map[string]string{"QueueName": "JobFailures"}}, // a name, not the queue's
		{"AWS/Lambda", "Errors", map[string]string{"FunctionName": "!Ref JobFailures"}},                  // not a function
		{"AWS/Lambda", "Erors", map[string]string{"FunctionName": "!Ref MakeThumbnails"}},
		{"AWS/ApiGateway", "5xx", map[string]string{"ApiId": "!Ref HttpApi", "Stage": "$default"}},
		{"Custom", "x", nil},
	} {
		if err := checkMetric(tmpl, m); err == nil {
			t.Errorf("%s was taken for a real metric", m)
		}
	}
	for _, m := range []metricRef{
		{emf.Namespace, emf.Errors, map[string]string{emf.Code: "service_unavailable"}},
		{"AWS/Lambda", "Errors", map[string]string{"FunctionName": "!Ref MakeThumbnails"}},
	} {
		if err := checkMetric(tmpl, m); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
}
