package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
)

// CountCalls is an SDK API option that records every DynamoDB call in the
// request's callstats, with the grants it needs: its own, and for
// TransactWriteItems (which IAM authorizes per action it holds) those of its
// actions.
var CountCalls = callstats.SDKCalls("DynamoDB", actionsOf)

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
