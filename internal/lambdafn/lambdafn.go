// Package lambdafn wires a Depot function: it reads and checks the
// configuration the template's environment gives the function, connects
// the clients its grants need and builds the use cases. Package apifn wraps
// an API operation's net/http handler for Lambda; the workers (thumbfn,
// exportfn) link neither it nor the HTTP layer.
package lambdafn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/media"
	"github.com/depot-inventory/depot/internal/usecase"
)

// MaxUploadLimit is the largest MAX_UPLOAD_BYTES accepted, as the
// template's MaxUploadBytes parameter allows: MakeThumbnails holds an
// upload in memory while it decodes it.
const MaxUploadLimit = 50 << 20

// Settings are what the template's environment gives a function.
type Settings struct {
	TableName  string
	BucketName string
	LogLevel   slog.Level
	RolesClaim string // the JWT claim with the caller's roles ("": cognito:groups)
	MaxUpload  int64  // largest image upload, bytes (0: usecase.DefaultMaxUploadBytes)
	// ExportQueueURL is the queue export jobs are sent to (EXPORT_QUEUE_URL);
	// ExportQueue, when set, is used instead (the local runtime's).
	ExportQueueURL string
	ExportQueue    usecase.Queue
	// ImportQueueURL and ImportQueue are the same for import jobs
	// (IMPORT_QUEUE_URL).
	ImportQueueURL string
	ImportQueue    usecase.Queue
	Logger         *slog.Logger     // nil: a JSON logger on stdout at LogLevel
	Now            func() time.Time // the clock of every use case (nil: time.Now)
	// DynamoDBOptions are extra options of the DynamoDB client (the
	// integration suite uses one to act between a function's read and its
	// write).
	DynamoDBOptions []func(*dynamodb.Options)
	// S3Options are the same for the S3 client (the fault injection tests
	// put their fault layer on every function with them and the above).
	S3Options []func(*s3.Options)
}

// LoadSettings reads the environment variables a function with these
// grants uses — TABLE_NAME, BUCKET_NAME, EXPORT_QUEUE_URL, IMPORT_QUEUE_URL,
// MAX_UPLOAD_BYTES, LOG_LEVEL, ROLES_CLAIM — and checks them: a variable the grants need must be set,
// and a number must be one. The error names every problem at once.
func LoadSettings(grants access.Grants, getenv func(string) string) (Settings, error) {
	s := Settings{
		TableName:  getenv("TABLE_NAME"),
		BucketName: getenv("BUCKET_NAME"),
		RolesClaim: getenv("ROLES_CLAIM"),
	}
	var errs []error
	if grants.OnTable() && s.TableName == "" {
		errs = append(errs, errors.New("TABLE_NAME is not set"))
	}
	if grants.On(access.Buckets...) && s.BucketName == "" {
		errs = append(errs, errors.New("BUCKET_NAME is not set"))
	}
	s.ExportQueueURL = getenv("EXPORT_QUEUE_URL")
	if grants.Has(access.SendExports) && s.ExportQueueURL == "" {
		errs = append(errs, errors.New("EXPORT_QUEUE_URL is not set"))
	}
	s.ImportQueueURL = getenv("IMPORT_QUEUE_URL")
	if grants.Has(access.SendImports) && s.ImportQueueURL == "" {
		errs = append(errs, errors.New("IMPORT_QUEUE_URL is not set"))
	}
	if v := getenv("MAX_UPLOAD_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > MaxUploadLimit {
			errs = append(errs, fmt.Errorf("MAX_UPLOAD_BYTES is %q, not a whole number of bytes from 1 to %d", v, MaxUploadLimit))
		}
		s.MaxUpload = n
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL is %q, not one of DEBUG, INFO, WARN, ERROR", v))
		}
	}
	return s, errors.Join(errs...)
}

// Exit logs why a function could not start, as one JSON line on stderr,
// and exits so that Lambda reports an init error.
func Exit(function string, err error) {
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "function", function, "error", oneLine(err))
	os.Exit(1)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// NewService connects the use cases to the table and the bucket the
// settings name (either may be empty when a function uses neither).
func NewService(ctx context.Context, s Settings) (*usecase.Service, error) {
	cfg, err := AWSConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: s.LogLevel}))
	}
	svc := &usecase.Service{Now: s.Now, MaxUploadBytes: s.MaxUpload, Logger: logger}
	if s.TableName != "" {
		store := dynamo.New(NewDynamoClient(cfg, s.DynamoDBOptions...), s.TableName)
		svc.Store, svc.Jobs, svc.Imports, svc.Shipments = store, store, store, store
	}
	if s.BucketName != "" {
		client := NewS3Client(cfg)
		if len(s.S3Options) > 0 {
			client = s3.New(client.Options(), s.S3Options...)
		}
		m := media.New(client, s.BucketName)
		svc.Signer, svc.Objects, svc.Multipart, svc.Files = m, m, m, m
	}
	var err2 error
	if svc.ExportQueue, err2 = queue(cfg, s.ExportQueue, s.ExportQueueURL, "EXPORT_QUEUE_URL", access.SendExports); err2 != nil {
		return nil, err2
	}
	if svc.ImportQueue, err2 = queue(cfg, s.ImportQueue, s.ImportQueueURL, "IMPORT_QUEUE_URL", access.SendImports); err2 != nil {
		return nil, err2
	}
	return svc, nil
}

// queue is the given queue, or else the one at url (nil without one).
func queue(cfg aws.Config, given usecase.Queue, url, variable string, grant access.Grant) (usecase.Queue, error) {
	switch {
	case given != nil:
		return given, nil
	case url == "":
		return nil, nil
	case ConnectQueue == nil:
		return nil, fmt.Errorf("%s is set, but this function links no queue client (import internal/lambdafn/queuefn)", variable)
	}
	return ConnectQueue(cfg, url, grant), nil
}

// ConnectQueue returns the queue at url, counting its calls as uses of
// grant. It is nil unless the binary links package queuefn, which sets it:
// only the functions that send jobs carry the SQS client.
var ConnectQueue func(cfg aws.Config, url string, grant access.Grant) usecase.Queue

// AWSConfig is the SDK configuration of a function, from the environment
// Lambda gives it: the region (AWS_REGION, else AWS_DEFAULT_REGION) and the
// execution role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN); endpoints are the SDK's own variables, applied per
// client (Endpoint). It is built by hand rather than by
// config.LoadDefaultConfig, which links every credential provider (SSO,
// STS, IMDS, process, shared files) and adds 1.5 MB to each function for
// sources a Lambda function never uses (docs/exports.md, "Binary size").
func AWSConfig(getenv func(string) string) (aws.Config, error) {
	region := cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var errs []error
	if region == "" {
		errs = append(errs, errors.New("AWS_REGION is not set"))
	}
	if id == "" || secret == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the execution role)"))
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
	}, nil
}

// Endpoint is the endpoint the SDK's variables give a service (its
// AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL), or nil for the
// service's own; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores both.
func Endpoint(service string) *string {
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return nil
	}
	if v := cmp.Or(os.Getenv("AWS_ENDPOINT_URL_"+service), os.Getenv("AWS_ENDPOINT_URL")); v != "" {
		return aws.String(v)
	}
	return nil
}

// NewDynamoClient returns a DynamoDB client that counts its calls per request.
func NewDynamoClient(cfg aws.Config, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	opts := append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, dynamo.CountCalls)
		if e := Endpoint("DYNAMODB"); e != nil {
			o.BaseEndpoint = e
		}
	}}, optFns...)
	return dynamodb.NewFromConfig(cfg, opts...)
}

// NewS3Client returns an S3 client that counts its calls per request; with
// a custom endpoint (moto, the embedded engine, LocalStack) it addresses
// buckets by path, as those need.
func NewS3Client(cfg aws.Config) *s3.Client {
	endpoint := Endpoint("S3")
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = endpoint != nil
		if endpoint != nil {
			o.BaseEndpoint = endpoint
		}
		o.APIOptions = append(o.APIOptions, media.CountCalls)
	})
}

// NewLogger returns a JSON logger on stdout at the named level (default info).
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil || level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: l}))
}
