package httpapi

import (
	"context"
	"net/http"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

func (a *api) getItemStock(r *http.Request) (reply, error) {
	at, err := timeParam(r, "at")
	if err != nil {
		return reply{}, err
	}
	st, err := a.Service.GetItemStock(r.Context(), r.PathValue("id"), at)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, itemStockView(st)), nil
}

func (a *api) getLocationStock(r *http.Request) (reply, error) {
	levels, next, err := pageOf(r, func(ctx context.Context, pr inventory.PageRequest) (inventory.Page[usecase.LocationLevel], error) {
		return a.Service.GetLocationStock(ctx, r.PathValue("id"), pr)
	}, locationLevelView)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, locationStockJSON{Levels: levels, NextCursor: next}), nil
}

func (a *api) listLocationHistory(r *http.Request) (reply, error) {
	return entries(r, func(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.LedgerEntry], error) {
		return a.Service.ListLocationHistory(ctx, r.PathValue("id"), pr)
	}, ledgerView)
}

// created is a 201 of a stock change, marked when it replays a first
// response.
func created(body any, replayed bool) reply {
	rep := jsonReply(http.StatusCreated, body)
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep
}

func (a *api) createAdjustment(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, []string{"reason", "note", "reference", "lines"})
	if err != nil {
		return reply{}, err
	}
	in := inventory.AdjustmentInput{
		Reason:    deref(obj.str("reason", false)),
		Note:      deref(obj.str("note", true)),
		Reference: obj.str("reference", true),
	}
	for _, line := range obj.objects("lines", []string{"itemId", "locationId", "delta"}) {
		in.Lines = append(in.Lines, inventory.AdjustmentLine{
			ItemID:     deref(line.str("itemId", false)),
			LocationID: deref(line.str("locationId", false)),
			Delta:      deref(line.integer("delta", false)),
		})
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	adj, replayed, err := a.Service.CreateAdjustment(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	return created(adjustmentView(adj), replayed), nil
}

func (a *api) createCount(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, []string{"itemId", "locationId", "counted", "expected"})
	if err != nil {
		return reply{}, err
	}
	in := inventory.CountInput{
		ItemID:     deref(obj.str("itemId", false)),
		LocationID: deref(obj.str("locationId", false)),
		Counted:    obj.integer("counted", false),
		Expected:   obj.integer("expected", true),
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	c, replayed, err := a.Service.CreateCount(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	return created(countView(c), replayed), nil
}

func (a *api) createTransfer(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, []string{"itemId", "fromLocationId", "toLocationId", "quantity", "note"})
	if err != nil {
		return reply{}, err
	}
	in := inventory.TransferInput{
		ItemID:         deref(obj.str("itemId", false)),
		FromLocationID: deref(obj.str("fromLocationId", false)),
		ToLocationID:   deref(obj.str("toLocationId", false)),
		Quantity:       deref(obj.integer("quantity", false)),
		Note:           deref(obj.str("note", true)),
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	t, replayed, err := a.Service.CreateTransfer(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	return created(transferView(t), replayed), nil
}
