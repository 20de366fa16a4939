package httpapi

import (
	"net/http"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

type exportJSON struct {
	ID                string            `json:"id"`
	Status            string            `json:"status"`
	Filters           exportFiltersJSON `json:"filters"`
	Include           []string          `json:"include"`
	BOM               bool              `json:"bom"`
	Rows              int64             `json:"rows"`
	Bytes             int64             `json:"bytes"`
	RequestedBy       string            `json:"requestedBy"`
	CreatedAt         string            `json:"createdAt"`
	StartedAt         *string           `json:"startedAt"`
	FinishedAt        *string           `json:"finishedAt"`
	Error             *string           `json:"error,omitempty"`
	DownloadURL       *string           `json:"downloadUrl,omitempty"`
	DownloadExpiresAt *string           `json:"downloadExpiresAt,omitempty"`
}

// exportFiltersJSON are the filters of GET /items, by the same names.
type exportFiltersJSON struct {
	Q           string `json:"q,omitempty"`
	Tag         string `json:"tag,omitempty"`
	GroupID     string `json:"groupId,omitempty"`
	LocationID  string `json:"locationId,omitempty"`
	LowStock    bool   `json:"lowStock,omitempty"`
	MinQuantity *int64 `json:"minQuantity,omitempty"`
	MaxQuantity *int64 `json:"maxQuantity,omitempty"`
	Sort        string `json:"sort,omitempty"`
}

type exportPageJSON struct {
	Exports    []exportJSON `json:"exports"`
	NextCursor *string      `json:"nextCursor"`
}

func exportView(j inventory.Export) exportJSON {
	f := j.Input.Filters
	out := exportJSON{ID: j.ID, Status: j.Status, Rows: j.Rows, Bytes: j.Bytes, RequestedBy: j.RequestedBy,
		CreatedAt: jsonTime(j.CreatedAt), Include: j.Input.Include, BOM: j.Input.BOM,
		Filters: exportFiltersJSON{Q: f.Q, Tag: f.Tag, GroupID: f.GroupID, LocationID: f.LocationID, LowStock: f.LowStock,
			MinQuantity: f.MinQuantity, MaxQuantity: f.MaxQuantity, Sort: f.Sort}}
	if out.Include == nil {
		out.Include = []string{}
	}
	if j.StartedAt != nil {
		s := jsonTime(*j.StartedAt)
		out.StartedAt = &s
	}
	if j.FinishedAt != nil {
		s := jsonTime(*j.FinishedAt)
		out.FinishedAt = &s
	}
	if j.Error != "" {
		out.Error = &j.Error
	}
	return out
}

func exportDetailView(d usecase.ExportDetail) exportJSON {
	out := exportView(d.Export)
	if d.DownloadURL != "" && d.DownloadExpiresAt != nil {
		s := jsonTime(*d.DownloadExpiresAt)
		out.DownloadURL, out.DownloadExpiresAt = &d.DownloadURL, &s
	}
	return out
}

var (
	exportFields       = []string{"filters", "include", "bom"}
	exportFilterFields = []string{"q", "tag", "groupId", "locationId", "lowStock", "minQuantity", "maxQuantity", "sort"}
)

func (a *api) requestExport(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readOptionalJSON(r, exportFields)
	if err != nil {
		return reply{}, err
	}
	var in inventory.ExportInput
	var empty []inventory.FieldError
	if f := obj.object("filters", exportFilterFields); f != nil {
		// As in GET /items, a filter is given with a value or not at all.
		text := func(name string) string {
			v := f.str(name, false)
			if v != nil && *v == "" {
				empty = append(empty, inventory.FieldError{Field: "/filters/" + name, Code: "required",
					Message: name + " must not be empty; omit it instead"})
			}
			return deref(v)
		}
		in.Filters = inventory.ItemQuery{Q: text("q"), Tag: text("tag"), GroupID: text("groupId"), LocationID: text("locationId"),
			Sort: text("sort"), MinQuantity: f.integer("minQuantity", true), MaxQuantity: f.integer("maxQuantity", true)}
		if b := f.boolean("lowStock"); b != nil {
			in.Filters.LowStock = *b
		}
	}
	if inc := obj.strings("include"); inc != nil {
		in.Include = *inc
	}
	if b := obj.boolean("bom"); b != nil {
		in.BOM = *b
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	if len(empty) > 0 {
		return reply{}, inventory.Invalid(inventory.CodeValidationFailed, "the export's filters are not valid", empty...)
	}
	job, replayed, err := a.Service.RequestExport(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	rep := jsonReply(http.StatusAccepted, exportView(job))
	rep.header.Set("Location", "/exports/"+job.ID)
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep, nil
}

func (a *api) getExport(r *http.Request) (reply, error) {
	d, err := a.Service.GetExport(r.Context(), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, exportDetailView(d)), nil
}

func (a *api) listExports(r *http.Request) (reply, error) {
	jobs, next, err := pageOf(r, a.Service.ListExports, exportView)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, exportPageJSON{Exports: jobs, NextCursor: next}), nil
}
