// Package emf puts CloudWatch metrics into Depot's JSON log lines in the
// Embedded Metric Format (EMF): CloudWatch Logs turns a line whose "_aws"
// member names some of the line's members as metrics into those metrics,
// with no API call and no agent (Lambda's log delivery accepts them as
// they are written to stdout). The values are members the line carries for
// people too (ddbCalls, ddbMs, ...), so the line reads as it did; "_aws"
// only says which of them are metrics, in which namespace, with which
// units and dimensions.
//
// The format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
// Extract reads a line as CloudWatch does and checks it against that
// specification, for the tests of every line that carries metrics.
//
// Each metric name or dimension set is a separate CloudWatch metric, billed
// as one, so Depot's metrics have no dimensions but the problem code of an
// error: per-function figures come from Lambda's own metrics, or from Logs
// Insights over the same lines (every line has "function").
package emf

import (
	"log/slog"
	"time"
)

// Key is the member of a line that holds the EMF metadata.
const Key = "_aws"

// Namespace is the CloudWatch namespace of Depot's metrics.
const Namespace = "Depot"

// Unit is a CloudWatch unit.
type Unit string

// The units Depot's metrics use.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric is one metric of a line: Name is both the member of the line that
// holds its value and the metric's name in CloudWatch.
type Metric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit,omitempty"`
}

// Directive tells CloudWatch to extract Metrics in Namespace, once for each
// of the dimension sets (each a list of members of the line whose string
// values are the dimensions' values; an empty set: no dimension).
type Directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []Metric   `json:"Metrics"`
}

// NoDimensions is the dimension sets of metrics without dimensions.
var NoDimensions = [][]string{{}}

// metadata is the value of the _aws member.
type metadata struct {
	Timestamp         int64       `json:"Timestamp"` // milliseconds since the epoch
	CloudWatchMetrics []Directive `json:"CloudWatchMetrics"`
}

// Attr is the _aws attribute that makes the metrics of the directives, at
// t, of the line it is logged with. The line must carry each metric's and
// each dimension's member (Extract checks it).
func Attr(t time.Time, ds ...Directive) slog.Attr {
	return slog.Any(Key, metadata{Timestamp: t.UnixMilli(), CloudWatchMetrics: ds})
}

// The metrics of Depot: each is named after the member of the log line
// that holds its value.
const (
	// Requests is 1 on each request line (one per API request a
	// function served).
	Requests = "requests"
	// ServerErrors is 1 on a request line answered with a 5xx, else 0:
	// its Sum counts them and its Average is their rate.
	ServerErrors = "serverErrors"
	// Errors is 1 on a request line answered with a problem (4xx or
	// 5xx), with the problem's code as dimension Code.
	Errors = "errors"
	// DDBCalls, DDBMs and DDBThrottles are on every line of a request or
	// worker event: the DynamoDB calls it made (retries of a call count
	// once), the time they took (retries and backoff included) and the
	// throttled attempts among them (ThrottlingException,
	// ProvisionedThroughputExceededException, RequestLimitExceeded, and
	// transactions cancelled for throttling), whether or not a retry
	// then succeeded.
	DDBCalls     = "ddbCalls"
	DDBMs        = "ddbMs"
	DDBThrottles = "ddbThrottles"
	// ThumbnailsMade and ThumbnailsFailed are on MakeThumbnails' lines:
	// the uploads its event turned into an image (thumbnails made and
	// recorded), and those it failed for good (not an image, or too
	// large; a failure a retry may cure is an error of the event, in
	// Lambda's Errors metric, then in ThumbnailFailures).
	ThumbnailsMade   = "thumbnailsMade"
	ThumbnailsFailed = "thumbnailsFailed"
	// ExportRows is on ExportItems' lines: the rows the delivery wrote
	// into the export's file (in parts it recorded).
	ExportRows = "exportRows"
	// ImportRows and ImportRowsFailed are on ImportItems' lines: the rows
	// the event applied (created, updated or unchanged, or failed) and,
	// of those, the failed ones.
	ImportRows       = "importRows"
	ImportRowsFailed = "importRowsFailed"
	// AuditDrift is the number of invariant violations the stock audit
	// (depot-audit, the AuditStock function) found, without dimensions.
	AuditDrift = "AuditDrift"
)

// Code is the dimension of Errors: the member holding the problem's code.
const Code = "code"

// The directives of Depot's lines.
var (
	// DynamoDB is on the line of every request and worker event.
	DynamoDB = Directive{Namespace: Namespace, Dimensions: NoDimensions,
		Metrics: []Metric{{DDBCalls, Count}, {DDBMs, Milliseconds}, {DDBThrottles, Count}}}
	// Request is on every request line.
	Request = Directive{Namespace: Namespace, Dimensions: NoDimensions,
		Metrics: []Metric{{Requests, Count}, {ServerErrors, Count}}}
	// ErrorCode is on the line of a request answered with a problem.
	ErrorCode = Directive{Namespace: Namespace, Dimensions: [][]string{{Code}},
		Metrics: []Metric{{Errors, Count}}}
	// Thumbnails is on MakeThumbnails' lines.
	Thumbnails = Directive{Namespace: Namespace, Dimensions: NoDimensions,
		Metrics: []Metric{{ThumbnailsMade, Count}, {ThumbnailsFailed, Count}}}
	// Exports is on ExportItems' lines.
	Exports = Directive{Namespace: Namespace, Dimensions: NoDimensions,
		Metrics: []Metric{{ExportRows, Count}}}
	// Imports is on ImportItems' lines.
	Imports = Directive{Namespace: Namespace, Dimensions: NoDimensions,
		Metrics: []Metric{{ImportRows, Count}, {ImportRowsFailed, Count}}}
	// Audit is on the audit's report line.
	Audit = Directive{Namespace: Namespace, Dimensions: NoDimensions,
		Metrics: []Metric{{AuditDrift, Count}}}
)

// All are the directives of every line Depot writes, for the template's
// alarms to be checked against.
var All = []Directive{DynamoDB, Request, ErrorCode, Thumbnails, Exports, Imports, Audit}
