package httpapi

import (
	"net/http"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

type importJSON struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	DryRun           bool            `json:"dryRun"`
	Rows             int64           `json:"rows"`
	Created          int64           `json:"created"`
	Updated          int64           `json:"updated"`
	Unchanged        int64           `json:"unchanged"`
	Failed           int64           `json:"failed"`
	RequestedBy      string          `json:"requestedBy"`
	CreatedAt        string          `json:"createdAt"`
	StartedAt        *string         `json:"startedAt"`
	FinishedAt       *string         `json:"finishedAt"`
	Error            *string         `json:"error,omitempty"`
	ResultsURL       *string         `json:"resultsUrl,omitempty"`
	ResultsExpiresAt *string         `json:"resultsExpiresAt,omitempty"`
	Upload           *importFormJSON `json:"upload,omitempty"`
}

// importFormJSON is the presigned POST an import's file is uploaded with.
type importFormJSON struct {
	URL         string            `json:"url"`
	Fields      map[string]string `json:"fields"`
	ExpiresAt   string            `json:"expiresAt"`
	MaxBytes    int64             `json:"maxBytes"`
	ContentType string            `json:"contentType"`
}

type importPageJSON struct {
	Imports    []importJSON `json:"imports"`
	NextCursor *string      `json:"nextCursor"`
}

func importView(j inventory.Import, shown string) importJSON {
	c := j.Counts
	out := importJSON{ID: j.ID, Status: shown, DryRun: j.DryRun, Rows: c.Rows, Created: c.Created, Updated: c.Updated,
		Unchanged: c.Unchanged, Failed: c.Failed, RequestedBy: j.RequestedBy, CreatedAt: jsonTime(j.CreatedAt)}
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

func importDetailView(d usecase.ImportDetail) importJSON {
	out := importView(d.Import, d.Shown)
	if d.ResultsURL != "" && d.ResultsExpiresAt != nil {
		s := jsonTime(*d.ResultsExpiresAt)
		out.ResultsURL, out.ResultsExpiresAt = &d.ResultsURL, &s
	}
	return out
}

func (a *api) requestImport(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readOptionalJSON(r, []string{"dryRun"})
	if err != nil {
		return reply{}, err
	}
	dryRun := obj.boolean("dryRun")
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	up, replayed, err := a.Service.RequestImport(r.Context(), req, deref(dryRun))
	if err != nil {
		return reply{}, err
	}
	view := importView(up.Import, up.Import.Status)
	view.Upload = &importFormJSON{URL: up.Form.URL, Fields: up.Form.Fields, ExpiresAt: jsonTime(up.Form.ExpiresAt),
		MaxBytes: inventory.MaxImportBytes, ContentType: usecase.ImportContentType}
	rep := jsonReply(http.StatusCreated, view)
	rep.header.Set("Location", "/imports/"+up.Import.ID)
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep, nil
}

func (a *api) getImport(r *http.Request) (reply, error) {
	d, err := a.Service.GetImport(r.Context(), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, importDetailView(d)), nil
}

func (a *api) listImports(r *http.Request) (reply, error) {
	now := a.Service.Clock()
	jobs, next, err := pageOf(r, a.Service.ListImports, func(j inventory.Import) importJSON { return importView(j, j.Shown(now)) })
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, importPageJSON{Imports: jobs, NextCursor: next}), nil
}
