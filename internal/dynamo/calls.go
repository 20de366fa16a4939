package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithymw "github.com/aws/smithy-go/middleware"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
)

// CountCalls is an SDK API option that records every DynamoDB call in the
// request's callstats, with the grants it needs: its own (a Query's on the
// index it reads, or the table), and for TransactWriteItems (which IAM
// authorizes per action it holds) those of its actions; and its throttled
// attempts, with the transactions cancelled for throttling, which the SDK
// neither retries nor counts as throttled.
func CountCalls(stack *smithymw.Stack) error {
	if err := callstats.SDKCalls("DynamoDB", actionsOf)(stack); err != nil {
		return err
	}
	return stack.Initialize.Add(smithymw.InitializeMiddlewareFunc("DepotThrottledTransactions",
		func(ctx context.Context, in smithymw.InitializeInput, next smithymw.InitializeHandler) (smithymw.InitializeOutput, smithymw.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			var canceled *types.TransactionCanceledException
			if errors.As(err, &canceled) {
				for _, r := range canceled.CancellationReasons {
					switch aws.ToString(r.Code) {
					case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
						callstats.Throttled(ctx, "DynamoDB", 1)
						return out, md, err
					}
				}
			}
			return out, md, err
		}), smithymw.After)
}

// actionsOf returns the grants (access.Grant strings) a call needs.
func actionsOf(op string, params any) []string {
	switch in := params.(type) {
	case *dynamodb.QueryInput:
		if in.IndexName != nil {
			return []string{access.Grant{Action: "dynamodb:Query", Resource: access.Index(*in.IndexName)}.String()}
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
