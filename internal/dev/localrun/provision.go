package localrun

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
)

// Provision creates the table (from template.yaml) and the bucket named by
// settings if they do not exist, and seeds the default location as the
// stack's custom resource does: what a function running in another process
// (make invoke) needs from the engines. UseEngines must
// have run, so that the SDK of this process talks to the engines.
func Provision(ctx context.Context, settings lambdafn.Settings) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	if err := createTable(ctx, dynamodb.NewFromConfig(cfg), settings.TableName); err != nil {
		return err
	}
	if err := createBucket(ctx, s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), settings.BucketName); err != nil {
		return err
	}
	if settings.Logger == nil {
		settings.Logger = slog.New(slog.DiscardHandler)
	}
	if err := seedfn.Seed(ctx, settings); err != nil {
		return fmt.Errorf("seed the default location: %w", err)
	}
	return nil
}
