// Package thumbfn wires the MakeThumbnails function. It is apart from
// package lambdafn so that the HTTP functions do not link the image codecs.
package thumbfn

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/images"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// MustHandler builds the MakeThumbnails handler from the environment,
// exiting (a Lambda init error) when it cannot.
func MustHandler() func(context.Context, events.S3Event) error {
	p, err := New(context.Background(), lambdafn.SettingsFromEnv())
	if err != nil {
		slog.Error("init failed", "function", "MakeThumbnails", "error", err.Error())
		os.Exit(1)
	}
	return p.Handle
}

// New builds the image processor MakeThumbnails runs.
func New(ctx context.Context, s lambdafn.Settings) (*images.Processor, error) {
	c, err := lambdafn.Connect(ctx, s)
	if err != nil {
		return nil, err
	}
	return &images.Processor{Store: c.Store, Objects: c.Media, Logger: c.Logger}, nil
}
