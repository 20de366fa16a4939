// Package access names what a function may do to the stack's resources.
// Each function declares the grants it uses (httpapi.Routes for the API
// functions); the generator (internal/dev/gen) turns them into the
// function's least-privilege IAM policy in template.yaml, the function's
// configuration is checked at init for the resources they name, and the
// integration suite checks that what each function was seen to do is
// exactly what it declares.
package access

import (
	"slices"
	"strings"
)

// Resource is a resource of the stack, or a part of one.
type Resource string

// The resources.
const (
	Table  Resource = "table"  // the DynamoDB table
	Bucket Resource = "bucket" // the images bucket itself (listing its objects)
	// GSI1 to GSI4 are the table's global secondary indexes, each a
	// resource of its own (${Table.Arn}/index/<name>), so that a function
	// may query only the indexes it reads.
	GSI1       Resource = "index/GSI1"
	GSI2       Resource = "index/GSI2"
	GSI3       Resource = "index/GSI3"
	GSI4       Resource = "index/GSI4"
	Uploads    Resource = "uploads/*"    // the images bucket's uploads/ prefix
	Thumbnails Resource = "thumbnails/*" // the images bucket's thumbnails/ prefix
	Exports    Resource = "exports/*"    // the bucket's exports/ prefix: CSV exports
	Imports    Resource = "imports/*"    // the bucket's imports/ prefix: CSV imports and their results
	// ExportQueue is the queue of export jobs (ExportItems' trigger);
	// ImportQueue the queue of imports handed over between invocations
	// of ImportItems.
	ExportQueue Resource = "export-queue"
	ImportQueue Resource = "import-queue"
)

// Grant is one IAM action on one resource.
type Grant struct {
	Action   string // e.g. "dynamodb:GetItem"
	Resource Resource
}

func (g Grant) String() string { return g.Action + " " + string(g.Resource) }

// The grants functions use. A transaction (TransactWriteItems) is
// authorized as each action it holds. A presigned URL works only if its
// signer may do what it asks, so signing one uses the grant too.
var (
	GetItems         = Grant{"dynamodb:GetItem", Table}
	BatchGetItems    = Grant{"dynamodb:BatchGetItem", Table}
	UpdateItems      = Grant{"dynamodb:UpdateItem", Table}         // location counts of stocked levels
	CheckItems       = Grant{"dynamodb:ConditionCheckItem", Table} // a location is live
	QueryTable       = Grant{"dynamodb:Query", Table}
	QueryGSI1        = Grant{"dynamodb:Query", GSI1}
	QueryGSI2        = Grant{"dynamodb:Query", GSI2}
	QueryGSI3        = Grant{"dynamodb:Query", GSI3}
	QueryGSI4        = Grant{"dynamodb:Query", GSI4}
	PutItems         = Grant{"dynamodb:PutItem", Table}
	DeleteItems      = Grant{"dynamodb:DeleteItem", Table}
	LinkThumbnails   = Grant{"s3:GetObject", Thumbnails} // presigned GETs of images
	SignUploads      = Grant{"s3:PutObject", Uploads}    // presigned POSTs of uploads
	ReadUploads      = Grant{"s3:GetObject", Uploads}
	DeleteUploads    = Grant{"s3:DeleteObject", Uploads}
	WriteThumbnails  = Grant{"s3:PutObject", Thumbnails}
	DeleteThumbnails = Grant{"s3:DeleteObject", Thumbnails}
	// An export's file is a multipart upload (create, parts and complete
	// are s3:PutObject), aborted when its job cannot start; its download
	// link is a presigned GET.
	WriteExports = Grant{"s3:PutObject", Exports}
	AbortExports = Grant{"s3:AbortMultipartUpload", Exports}
	LinkExports  = Grant{"s3:GetObject", Exports}
	// An import's file is uploaded by a presigned POST and read by the
	// import worker, which writes its results (chunks, then one multipart
	// file) and links them with a presigned GET.
	SignImports   = Grant{"s3:PutObject", Imports}
	ReadImports   = Grant{"s3:GetObject", Imports}
	WriteImports  = Grant{"s3:PutObject", Imports}
	AbortImports  = Grant{"s3:AbortMultipartUpload", Imports}
	DeleteImports = Grant{"s3:DeleteObject", Imports} // the results' chunks, once joined
	SendExports   = Grant{"sqs:SendMessage", ExportQueue}
	SendImports   = Grant{"sqs:SendMessage", ImportQueue}
	// The audit (AuditStock) reads the whole table and lists the image
	// objects; no request path does either.
	ScanTable  = Grant{"dynamodb:Scan", Table}
	ListBucket = Grant{"s3:ListBucket", Bucket}
)

// Grants is a function's set of grants.
type Grants []Grant

// On reports whether any grant is on one of the resources.
func (gs Grants) On(rs ...Resource) bool {
	return slices.ContainsFunc(gs, func(g Grant) bool { return slices.Contains(rs, g.Resource) })
}

// Has reports whether g is among the grants.
func (gs Grants) Has(g Grant) bool { return slices.Contains(gs, g) }

// Strings returns the grants as sorted "action resource" strings.
func (gs Grants) Strings() []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.String()
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Indexes are the table's indexes.
var Indexes = []Resource{GSI1, GSI2, GSI3, GSI4}

// Index is the resource of the table's index with that name.
func Index(name string) Resource { return Resource("index/" + name) }

// OnTable reports whether any grant is on the table or one of its indexes.
func (gs Grants) OnTable() bool { return gs.On(append([]Resource{Table}, Indexes...)...) }

// Buckets are the bucket and the resources in it.
var Buckets = []Resource{Bucket, Uploads, Thumbnails, Exports, Imports}

// ObjectResource is the resource an object key of the bucket is in.
func ObjectResource(key string) Resource {
	prefix, _, _ := strings.Cut(key, "/")
	return Resource(prefix + "/*")
}
