package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	smithymw "github.com/aws/smithy-go/middleware"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
)

// CountCalls is an SDK API option that records every DynamoDB call in the
// request's callstats, with the IAM actions it needs: its own, and for
// TransactWriteItems (which IAM authorizes per action it holds) those of
// its actions. Retries of one call count once.
func CountCalls(stack *smithymw.Stack) error {
	return stack.Initialize.Add(smithymw.InitializeMiddlewareFunc("DepotCallStats",
		func(ctx context.Context, in smithymw.InitializeInput, next smithymw.InitializeHandler) (smithymw.InitializeOutput, smithymw.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			op := middleware.GetOperationName(ctx)
			callstats.Call(ctx, "DynamoDB", op, time.Since(start), actionsOf(op, in.Parameters)...)
			return out, md, err
		}), smithymw.After)
}

// actionsOf returns the grants (access.Grant strings) a call needs.
func actionsOf(op string, params any) []string {
	switch in := params.(type) {
	case *dynamodb.QueryInput:
		if in.IndexName != nil {
			return []string{access.QueryIndexes.String()}
		}
		return []string{access.QueryTable.String()}
	case *dynamodb.TransactWriteItemsInput:
		var actions []string
		for _, it := range in.TransactItems {
			var a string
			switch {
			case it.Put != nil:
				a = "dynamodb:PutItem"
			case it.Update != nil:
				a = "dynamodb:UpdateItem"
			case it.Delete != nil:
				a = "dynamodb:DeleteItem"
			case it.ConditionCheck != nil:
				a = "dynamodb:ConditionCheckItem"
			}
			actions = append(actions, access.Grant{Action: a, Resource: access.Table}.String())
		}
		return actions
	}
	return []string{access.Grant{Action: "dynamodb:" + op, Resource: access.Table}.String()}
}
