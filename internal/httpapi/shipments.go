package httpapi

import (
	"context"
	"net/http"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Shipments (docs/shipments.md): a draft, its lines, its transitions.

type shipmentJSON struct {
	ID               string             `json:"id"`
	Status           string             `json:"status"`
	OriginLocationID string             `json:"originLocationId"`
	Destination      destinationJSON    `json:"destination"`
	Reference        *string            `json:"reference"`
	Carrier          *string            `json:"carrier"`
	TrackingNumber   *string            `json:"trackingNumber"`
	Note             *string            `json:"note"`
	LineCount        int                `json:"lineCount"`
	TotalQuantity    int64              `json:"totalQuantity"`
	ReceivedQuantity int64              `json:"receivedQuantity"`
	Lines            []shipmentLineJSON `json:"lines,omitempty"`
	Timeline         []shipmentEvtJSON  `json:"timeline,omitempty"`
	Transition       *transitionJSON    `json:"transition,omitempty"`
	CreatedAt        string             `json:"createdAt"`
	CreatedBy        string             `json:"createdBy"`
	UpdatedAt        string             `json:"updatedAt"`
	UpdatedBy        string             `json:"updatedBy"`
	Version          int64              `json:"version"`
}

type destinationJSON struct {
	LocationID string `json:"locationId,omitempty"`
	Name       string `json:"name,omitempty"`
	Address    string `json:"address,omitempty"`
}

type shipmentLineJSON struct {
	ItemID   string `json:"itemId"`
	Quantity int64  `json:"quantity"`
	Received int64  `json:"received"`
}

type shipmentEvtJSON struct {
	Action   string `json:"action"`
	Status   string `json:"status"`
	Actor    string `json:"actor"`
	At       string `json:"at"`
	Lines    int    `json:"lines"`
	Quantity int64  `json:"quantity"`
}

// transitionJSON is a transition in progress: the lines already moved are
// its applied steps' (docs/shipments.md, "What readers see").
type transitionJSON struct {
	Action      string `json:"action"`
	Actor       string `json:"actor"`
	StartedAt   string `json:"startedAt"`
	Lines       int    `json:"lines"`
	LinesMoved  int    `json:"linesMoved"`
	RollingBack bool   `json:"rollingBack"`
}

type shipmentPageJSON struct {
	Shipments  []shipmentJSON `json:"shipments"`
	NextCursor *string        `json:"nextCursor"`
}

func shipmentView(h inventory.Shipment) shipmentJSON {
	return shipmentJSON{ID: h.ID, Status: h.Status, OriginLocationID: h.OriginLocationID,
		Destination: destinationJSON{LocationID: h.Destination.LocationID, Name: h.Destination.Name, Address: h.Destination.Address},
		Reference:   nullable(h.Reference), Carrier: nullable(h.Carrier), TrackingNumber: nullable(h.TrackingNumber), Note: nullable(h.Note),
		LineCount: h.LineCount, TotalQuantity: h.TotalQuantity, ReceivedQuantity: h.ReceivedQuantity,
		CreatedAt: jsonTime(h.CreatedAt), CreatedBy: h.CreatedBy, UpdatedAt: jsonTime(h.UpdatedAt), UpdatedBy: h.UpdatedBy, Version: h.Version}
}

func shipmentStateView(st inventory.ShipmentState) shipmentJSON {
	j := shipmentView(st.Shipment)
	j.Lines = make([]shipmentLineJSON, len(st.Lines))
	for i, l := range st.Lines {
		j.Lines[i] = shipmentLineJSON{ItemID: l.ItemID, Quantity: l.Quantity, Received: l.Received}
	}
	for _, e := range st.Timeline {
		j.Timeline = append(j.Timeline, shipmentEvtJSON{Action: e.Action, Status: e.Status, Actor: e.Actor, At: jsonTime(e.At), Lines: e.Lines, Quantity: e.Quantity})
	}
	if tr := st.Transition; tr != nil {
		moved := 0
		for k := range st.Applied() {
			moved += len(tr.Chunk(k))
		}
		j.Transition = &transitionJSON{Action: tr.Action, Actor: tr.Actor, StartedAt: jsonTime(tr.StartedAt), Lines: len(tr.Lines),
			LinesMoved: moved, RollingBack: tr.Rollback}
	}
	return j
}

func shipmentReply(status int, st inventory.ShipmentState, replayed bool) reply {
	return versioned(status, shipmentStateView(st), st.Version, replayed)
}

// shipmentLines reads a list of {itemId, quantity}.
func shipmentLines(obj *object) []inventory.TransitionLine {
	var out []inventory.TransitionLine
	for _, l := range obj.objects("lines", []string{"itemId", "quantity"}) {
		out = append(out, inventory.TransitionLine{ItemID: deref(l.str("itemId", false)), Quantity: deref(l.integer("quantity", false))})
	}
	return out
}

func (a *api) createShipment(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, []string{"originLocationId", "destination", "lines", "reference", "carrier", "trackingNumber", "note"})
	if err != nil {
		return reply{}, err
	}
	in := inventory.ShipmentInput{
		OriginLocationID: deref(obj.str("originLocationId", false)),
		Lines:            shipmentLines(obj),
		Reference:        obj.str("reference", true),
		Carrier:          obj.str("carrier", true),
		TrackingNumber:   obj.str("trackingNumber", true),
		Note:             obj.str("note", true),
	}
	if d := obj.object("destination", []string{"locationId", "name", "address"}); d != nil {
		in.Destination = inventory.Destination{LocationID: deref(d.str("locationId", false)), Name: deref(d.str("name", false)),
			Address: deref(d.str("address", false))}
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	st, replayed, err := a.Service.CreateShipment(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	rep := shipmentReply(http.StatusCreated, st, replayed)
	rep.header.Set("Location", "/shipments/"+st.ID)
	return rep, nil
}

func (a *api) getShipment(r *http.Request) (reply, error) {
	st, err := a.Service.GetShipment(r.Context(), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return shipmentReply(http.StatusOK, st, false), nil
}

func (a *api) listShipments(r *http.Request) (reply, error) {
	q := r.URL.Query()
	// An empty filter is a mistake, not "any": omit it for every status
	// or origin (as GET /items' locationId).
	for _, name := range []string{"status", "originLocationId"} {
		if q.Has(name) && q.Get(name) == "" {
			return reply{}, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, name+" must not be empty; omit it for every shipment",
				inventory.FieldError{Field: name, Code: "required", Message: name + " must not be empty"})
		}
	}
	f := inventory.ShipmentFilter{Status: q.Get("status"), OriginLocationID: q.Get("originLocationId")}
	out, next, err := pageOf(r, func(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Shipment], error) {
		return a.Service.ListShipments(ctx, f, pr)
	}, shipmentView)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, shipmentPageJSON{Shipments: out, NextCursor: next}), nil
}

func (a *api) replaceShipmentLines(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, []string{"lines"})
	if err != nil {
		return reply{}, err
	}
	lines := shipmentLines(obj)
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	st, err := a.Service.ReplaceShipmentLines(r.Context(), req, r.PathValue("id"), lines)
	if err != nil {
		return reply{}, err
	}
	return shipmentReply(http.StatusOK, st, false), nil
}

// transition is the handler of a transition; receive takes an optional
// {lines}, the others an optional empty body.
func transition(action string) func(*api, *http.Request) (reply, error) {
	return func(a *api, r *http.Request) (reply, error) {
		req, err := request(r)
		if err != nil {
			return reply{}, err
		}
		var allowed []string
		if action == inventory.ActionReceive {
			allowed = []string{"lines"}
		}
		obj, err := readOptionalJSON(r, allowed)
		if err != nil {
			return reply{}, err
		}
		lines := shipmentLines(obj)
		if err := obj.err(); err != nil {
			return reply{}, err
		}
		st, replayed, err := a.Service.TransitionShipment(r.Context(), req, r.PathValue("id"), action, lines)
		if err != nil {
			return reply{}, err
		}
		return shipmentReply(http.StatusOK, st, replayed), nil
	}
}
