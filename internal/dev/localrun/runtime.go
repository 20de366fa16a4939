package localrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	depot "github.com/depot-inventory/depot"
	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/samtemplate"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/apifn"
	"github.com/depot-inventory/depot/internal/lambdafn/exportfn"
	"github.com/depot-inventory/depot/internal/lambdafn/importfn"
	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
	_ "github.com/depot-inventory/depot/internal/lambdafn/specfn" // GetOpenAPI serves the document
	"github.com/depot-inventory/depot/internal/lambdafn/thumbfn"
)

// Engines are the DynamoDB and S3 endpoints the runtime talks to.
type Engines struct {
	DynamoDB string // description, for the banner
	S3       string
	// Notifier delivers the embedded S3's event notifications; nil with
	// external engines, which deliver none to this process.
	Notifier *Notifier
	// ImportNotifier delivers the embedded S3's notifications of import
	// files to ImportItems; nil with external engines.
	ImportNotifier *Notifier
	// Data is where the embedded engines keep their data across runs
	// (EngineOptions.DataDir); nil: in memory only, or external engines.
	Data    *DataStore
	closers []func() error

	mu      sync.Mutex
	targets map[string]func(context.Context, events.S3Event) error // by bucket
	imports map[string]func(context.Context, events.S3Event) error // ImportItems, by bucket
}

// dispatch hands an S3 event to the MakeThumbnails of the bucket's stack.
func (e *Engines) dispatch(ctx context.Context, ev events.S3Event) error {
	if len(ev.Records) == 0 {
		return nil
	}
	e.mu.Lock()
	target := e.targets[ev.Records[0].S3.Bucket.Name]
	e.mu.Unlock()
	if target == nil {
		return nil
	}
	return target(ctx, ev)
}

// dispatchImport hands an S3 event of an import file to the ImportItems
// of the bucket's stack.
func (e *Engines) dispatchImport(ctx context.Context, ev events.S3Event) error {
	if len(ev.Records) == 0 {
		return nil
	}
	e.mu.Lock()
	target := e.imports[ev.Records[0].S3.Bucket.Name]
	e.mu.Unlock()
	if target == nil {
		return nil
	}
	return target(ctx, ev)
}

func (e *Engines) closeData() error {
	if e.Data == nil {
		return nil
	}
	return e.Data.Close()
}

// Close stops the embedded engines, if any were started.
func (e *Engines) Close() error {
	var errs []error
	for _, c := range e.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// UseEngines points the AWS SDK of this process at the storage engines:
// the ones AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL_S3
// name, or else embedded ones started here on loopback, in memory. It sets
// the SDK's own variables, so every client below is configured exactly as
// in Lambda.
func UseEngines() (*Engines, error) {
	return UseEnginesWith(EngineOptions{})
}

// EngineOptions configure UseEnginesWith.
type EngineOptions struct {
	// DataDir, when set, is where the embedded engines keep their data
	// across runs (datastore.go: their logs, replayed at start); unset,
	// their data is in memory only. External engines keep their own, and
	// nothing is written here.
	DataDir string
	// Fresh empties DataDir first.
	Fresh bool
}

// UseEnginesWith is UseEngines with options.
func UseEnginesWith(opts EngineOptions) (*Engines, error) {
	setDefault("AWS_REGION", "us-east-1")
	external := os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	if external {
		setDefault("AWS_ACCESS_KEY_ID", "test")
		setDefault("AWS_SECRET_ACCESS_KEY", "test")
		return &Engines{DynamoDB: endpointOf("DYNAMODB"), S3: endpointOf("S3"), targets: map[string]func(context.Context, events.S3Event) error{},
			imports: map[string]func(context.Context, events.S3Event) error{}}, nil
	}
	// The embedded S3 accepts only requests signed with these, as S3 does;
	// minidyn accepts any. Never use real credentials here.
	os.Setenv("AWS_ACCESS_KEY_ID", LocalAccessKeyID)
	os.Setenv("AWS_SECRET_ACCESS_KEY", LocalSecretAccessKey)
	os.Unsetenv("AWS_SESSION_TOKEN")
	os.Unsetenv("AWS_PROFILE")
	e := &Engines{targets: map[string]func(context.Context, events.S3Event) error{},
		imports: map[string]func(context.Context, events.S3Event) error{}}
	concurrency, err := ThumbnailConcurrency()
	if err != nil {
		return nil, err
	}
	if opts.DataDir != "" {
		if e.Data, err = OpenDataStore(opts.DataDir, opts.Fresh); err != nil {
			return nil, err
		}
	}
	var ddb *Engine
	if url := os.Getenv(DynamoDBProcessEnv); url != "" && e.Data == nil {
		// The same engine, in a process of its own (cmd/depot-dynamodb).
		ddb = &Engine{Name: "minidyn (embedded DynamoDB, its own process)", URL: url}
	} else if ddb, err = startDynamoDB(e.Data); err != nil {
		_ = e.closeData()
		return nil, err
	}
	e.closers = append(e.closers, ddb.Close)
	// ImportItems' notification: browser POSTs of CSV files under imports/
	// (template.yaml), with the function's timeout.
	imports := NewNotifier(S3Options{Prefix: "imports/", Suffix: ".csv", Events: []string{EventObjectCreatedPost},
		Notify: e.dispatchImport, Timeout: importfn.Timeout, Region: os.Getenv("AWS_REGION")})
	s3e, notifier, err := startS3(S3Options{Prefix: inventory.UploadPrefix, Notify: e.dispatch,
		MaxConcurrency: concurrency, Region: os.Getenv("AWS_REGION"), Also: []*Notifier{imports}}, e.Data)
	if err != nil {
		_ = e.Close()
		_ = e.closeData()
		return nil, err
	}
	e.Notifier, e.ImportNotifier = notifier, imports
	// The data's logs close once both engines have stopped.
	e.closers = append(e.closers, s3e.Close, e.closeData)
	os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb.URL)
	os.Setenv("AWS_ENDPOINT_URL_S3", s3e.URL)
	e.DynamoDB = ddb.Name + " at " + ddb.URL
	e.S3 = s3e.Name + " at " + s3e.URL
	return e, nil
}

// DynamoDBProcessEnv names the URL of an embedded DynamoDB already
// serving in a process of its own (cmd/depot-dynamodb): UseEngines uses it
// instead of starting one, and still starts the embedded S3 with its
// notifications (unlike AWS_ENDPOINT_URL*, which make every engine
// external). make integration sets it (tools/with-dynamodb.sh).
const DynamoDBProcessEnv = "DEPOT_DYNAMODB_URL"

func endpointOf(service string) string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

func setDefault(name, value string) {
	if os.Getenv(name) == "" {
		os.Setenv(name, value)
	}
}

// Stack is the local deployment: the table and bucket exist, every HTTP
// function's Lambda handler sits behind the gateway, and MakeThumbnails
// receives the bucket's upload events (from the embedded S3).
type Stack struct {
	Settings       lambdafn.Settings
	Gateway        *Gateway
	CORS           *CORS // what the gateway applies; nil when the API configures none
	MakeThumbnails func(context.Context, events.S3Event) error
	// ExportQueue delivers export jobs to ExportItems in this process;
	// ImportQueue import jobs to ImportItems.
	ExportQueue *Queue
	ImportQueue *Queue
	// ImportItems is ImportItems' handler of S3 events (the embedded S3
	// delivers them; with external engines, tests call it).
	ImportItems func(context.Context, events.S3Event) error
}

// Deploy creates the table (from template.yaml) and the bucket if they do
// not exist, seeds the table as the DefaultLocation custom resource does
// (seedfn.Seed), builds every function's handler behind a gateway that accepts
// the issuer's tokens and applies the HttpApi's CORS configuration (its
// AllowedOrigins parameter replaced by $ALLOWED_ORIGINS when set), and
// subscribes MakeThumbnails to the bucket's upload events.
func (e *Engines) Deploy(ctx context.Context, settings lambdafn.Settings, issuer *localauth.Issuer, logger *slog.Logger) (*Stack, error) {
	tpl, err := Template()
	if err != nil {
		return nil, err
	}
	cors, err := CORSFromTemplate(tpl, ParameterOverrides())
	if err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if err := createTable(ctx, dynamodb.NewFromConfig(cfg), settings.TableName); err != nil {
		return nil, err
	}
	if err := createBucket(ctx, s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), settings.BucketName); err != nil {
		return nil, err
	}
	settings.Logger = logger
	exportQueue, err := workerQueue(tpl, exportfn.Function, access.SendExports, logger)
	if err != nil {
		return nil, err
	}
	settings.ExportQueue = exportQueue
	importQueue, err := workerQueue(tpl, importfn.Function, access.SendImports, logger)
	if err != nil {
		return nil, err
	}
	settings.ImportQueue = importQueue
	// What the stack's DefaultLocation custom resource does on AWS when it
	// is created: the same code, logging the same line.
	if err := seedfn.Seed(ctx, settings); err != nil {
		return nil, fmt.Errorf("seed the default location: %w", err)
	}
	deps, err := apifn.Build(ctx, settings)
	if err != nil {
		return nil, err
	}
	handlers := map[string]apifn.Handler{}
	for _, r := range httpapi.Routes {
		h, err := apifn.New(r.Function, deps)
		if err != nil {
			return nil, err
		}
		handlers[r.Function] = h
	}
	jwks, err := issuer.JWKS()
	if err != nil {
		return nil, err
	}
	verifier, err := localauth.NewVerifier(jwks, localauth.IssuerURL, localauth.Audience)
	if err != nil {
		return nil, err
	}
	thumbnailer, err := thumbfn.New(ctx, settings)
	if err != nil {
		return nil, err
	}
	exporter, err := exportfn.New(ctx, settings)
	if err != nil {
		return nil, err
	}
	exportQueue.SetTarget(exporter.Handle)
	importer, err := importfn.New(ctx, settings)
	if err != nil {
		return nil, err
	}
	importQueue.SetTarget(importer.HandleSQS)
	e.mu.Lock()
	e.targets[settings.BucketName] = thumbnailer.Handle
	e.imports[settings.BucketName] = importer.HandleS3
	e.mu.Unlock()
	return &Stack{Settings: settings, Gateway: NewGateway(handlers, verifier, jwks, logger, WithCORS(cors)),
		CORS: cors, MakeThumbnails: thumbnailer.Handle, ExportQueue: exportQueue, ImportQueue: importQueue,
		ImportItems: importer.HandleS3}, nil
}

// workerQueue is the in-process queue of a worker the template triggers by
// SQS: its timeout and its event source's MaximumConcurrency as the
// template sets them.
func workerQueue(tpl *samtemplate.Template, function string, grant access.Grant, logger *slog.Logger) (*Queue, error) {
	fn, ok := tpl.Functions[function]
	if !ok || len(fn.SQSEvents) != 1 {
		return nil, fmt.Errorf("template.yaml has no function %s with one SQS event", function)
	}
	o := QueueOptions{Grant: grant, Logger: logger}
	for _, v := range []struct {
		text string
		set  func(int)
	}{
		{fn.Timeout, func(n int) { o.Timeout = time.Duration(n) * time.Second }},
		{fn.SQSEvents[0].MaxConcurrency, func(n int) { o.MaxConcurrency = n }},
	} {
		if v.text == "" {
			continue
		}
		n, err := strconv.Atoi(v.text)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", function, v.text)
		}
		v.set(n)
	}
	return NewQueue(o), nil
}

// Template is the parsed template.yaml the runtime deploys.
var Template = sync.OnceValues(func() (*samtemplate.Template, error) {
	tpl, err := samtemplate.Parse(depot.TemplateYAML)
	if err != nil {
		return nil, fmt.Errorf("parse template.yaml: %w", err)
	}
	return tpl, nil
})

// ThumbnailFunction is the logical id of the function the images bucket's
// upload events invoke.
const ThumbnailFunction = "MakeThumbnails"

// ThumbnailConcurrency is ThumbnailFunction's ReservedConcurrentExecutions
// in template.yaml, the bound the embedded S3 puts on the invocations of
// its notifications in flight (0 when the template sets none: no bound).
// Every stack deployed on the same engines shares it.
func ThumbnailConcurrency() (int, error) {
	tpl, err := Template()
	if err != nil {
		return 0, err
	}
	fn, ok := tpl.Functions[ThumbnailFunction]
	if !ok {
		return 0, fmt.Errorf("template.yaml has no function %s", ThumbnailFunction)
	}
	if fn.ReservedConcurrentExecutions == "" {
		return 0, nil
	}
	v, err := tpl.Resolve(fn.ReservedConcurrentExecutions)
	if err != nil {
		return 0, fmt.Errorf("%s ReservedConcurrentExecutions: %w", ThumbnailFunction, err)
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s ReservedConcurrentExecutions: %w", ThumbnailFunction, err)
	case n <= 0:
		// Lambda throttles every invocation of a function reserved 0.
		return 0, fmt.Errorf("%s ReservedConcurrentExecutions is %d: the function would never run", ThumbnailFunction, n)
	}
	return n, nil
}

// ParameterOverrides are the template parameters the environment sets
// locally: AllowedOrigins from $ALLOWED_ORIGINS.
func ParameterOverrides() map[string]string {
	overrides := map[string]string{}
	if v := os.Getenv(AllowedOriginsEnv); v != "" {
		overrides["AllowedOrigins"] = v
	}
	return overrides
}

func createTable(ctx context.Context, db *dynamodb.Client, name string) error {
	tpl, err := Template()
	if err != nil {
		return err
	}
	_, err = db.CreateTable(ctx, tpl.Table.CreateTableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return nil
}

func createBucket(ctx context.Context, client *s3.Client, name string) error {
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}
