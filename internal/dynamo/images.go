package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// ErrNotLatestUpload: the item's image is no longer the given upload (a newer
// upload was asked for, or the item is gone).
var ErrNotLatestUpload = errors.New("upload is not the item's latest")

// StartImageUpload records img (pending) as the image of the live item as
// read (old), with the idempotency record when idem is not nil. It fails
// with ErrVersionConflict if the item changed since it was read.
func (s *Store) StartImageUpload(ctx context.Context, old inventory.Item, img inventory.Image, idem *IdempotencyRecord) error {
	tx := &txn{table: s.table}
	if idem != nil {
		tx.put("idem", idem.record(), "attribute_not_exists(PK) OR expiresAtEpoch < :now",
			idempotencyNow())
	}
	av, err := attributevalue.Marshal(newImageRecord(&img))
	if err != nil {
		return fmt.Errorf("encode image: %w", err)
	}
	pk, sk := itemKey(old.ID)
	tx.items = append(tx.items, types.TransactWriteItem{Update: &types.Update{
		TableName:           &s.table,
		Key:                 stringKey(pk, sk),
		UpdateExpression:    aws.String("SET image = :img, version = version + :one"),
		ConditionExpression: aws.String("version = :v AND attribute_not_exists(deleted)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":img": av, ":one": number(1), ":v": number(old.Version),
		},
	}})
	tx.roles = append(tx.roles, "item")
	if tx.err != nil {
		return tx.err
	}
	return s.commit(ctx, tx, old)
}

// SetImage replaces the item's image with img, only while the item's image
// is still the upload uploadID. It returns the item's image as it was.
func (s *Store) SetImage(ctx context.Context, itemID, uploadID string, img inventory.Image) (*inventory.Image, error) {
	av, err := attributevalue.Marshal(newImageRecord(&img))
	if err != nil {
		return nil, fmt.Errorf("encode image: %w", err)
	}
	pk, sk := itemKey(itemID)
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 stringKey(pk, sk),
		UpdateExpression:    aws.String("SET image = :img, version = version + :one"),
		ConditionExpression: aws.String("image.uploadId = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":img": av, ":one": number(1), ":u": str(uploadID),
		},
		ReturnValues: types.ReturnValueUpdatedOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil, ErrNotLatestUpload
	}
	if err != nil {
		return nil, fmt.Errorf("set image of %s: %w", itemID, err)
	}
	var old struct {
		Image *imageRecord `dynamodbav:"image"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &old); err != nil {
		return nil, fmt.Errorf("decode old image of %s: %w", itemID, err)
	}
	return old.Image.image(), nil
}
