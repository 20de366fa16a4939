package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
)

// adminActor creates the locations (an admin's right); the editors of the
// plan do the rest.
const adminActor = "dana.admin@example.com"

// seeder talks to the API as the plan's people.
type seeder struct {
	api      string
	seed     uint64
	parallel int
	client   *http.Client
	tokens   map[string]string // by email
	made     map[int]bool      // the plan's items this run created
	verbose  io.Writer         // each phase's time (nil: quiet)
}

func newSeeder(api string, issuer *localauth.Issuer, seed uint64, parallel int) (*seeder, error) {
	s := &seeder{api: strings.TrimSuffix(api, "/"), seed: seed, parallel: parallel,
		client: &http.Client{Timeout: 30 * time.Second}, tokens: map[string]string{}, made: map[int]bool{}}
	people := map[string]string{adminActor: "admin"}
	for _, e := range (&plan{}).actors() {
		people[e] = "editor"
	}
	for email, role := range people {
		tok, err := issuer.Mint(localauth.Claims{Email: email, Groups: []string{role}}, time.Hour)
		if err != nil {
			return nil, err
		}
		s.tokens[email] = tok
	}
	return s, nil
}

func (*plan) actors() []string {
	return []string{"alice@example.com", "bram@example.com", "chen@example.com", "ines@example.com"}
}

// digest names a list in an Idempotency-Key (at most 200 characters).
func digest(ids []string) string {
	h := fnv.New64a()
	h.Write([]byte(strings.Join(ids, ",")))
	return strconv.FormatUint(h.Sum64(), 36)
}

// actorOf picks the editor who makes a change, from what it is about.
func actorOf(about string) string {
	h := fnv.New32a()
	h.Write([]byte(about))
	a := (&plan{}).actors()
	return a[h.Sum32()%uint32(len(a))]
}

// apiError is an answer with an error status: its problem's code.
type apiError struct {
	Method, Path string
	Status       int
	Code         string
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

func isCode(err error, status int, code string) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == status && (code == "" || ae.Code == code)
}

// call sends a request as actor (JSON body unless nil; an Idempotency-Key
// when key is set) and decodes a 2xx answer into out (unless nil). It
// retries what a client should: a connection error, 503 and
// idempotency_in_progress, a few times.
func (s *seeder) call(ctx context.Context, actor, method, path, key string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	var last error
	for attempt := range 6 {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			case <-ctx.Done():
				return errors.Join(ctx.Err(), last)
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, s.api+path, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s.tokens[actor])
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			last = err
			continue
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode/100 == 2 {
			if out == nil {
				return nil
			}
			return json.Unmarshal(data, out)
		}
		var problem struct{ Code string }
		_ = json.Unmarshal(data, &problem)
		last = &apiError{Method: method, Path: path, Status: resp.StatusCode, Code: problem.Code, Body: string(data)}
		if resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("%w: the API refused the local issuer's token: is it make run, with the same state directory ($DEPOT_STATE_DIR or .local)?", last)
		}
		if resp.StatusCode != http.StatusServiceUnavailable && problem.Code != "idempotency_in_progress" {
			return last
		}
	}
	return last
}

// all reads every page of a list into one slice; field is the page's list.
func all[T any](ctx context.Context, s *seeder, path, field string) ([]T, error) {
	var out []T
	cursor := ""
	for {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page map[string]json.RawMessage
		if err := s.call(ctx, adminActor, http.MethodGet, path+"?"+q.Encode(), "", nil, &page); err != nil {
			return nil, err
		}
		var list []T
		if err := json.Unmarshal(page[field], &list); err != nil {
			return nil, fmt.Errorf("GET %s: %s: %w", path, field, err)
		}
		out = append(out, list...)
		var next *string // null on the last page
		if err := json.Unmarshal(page["nextCursor"], &next); err != nil {
			return nil, fmt.Errorf("GET %s: nextCursor: %w", path, err)
		}
		if next == nil || *next == "" || *next == cursor {
			return out, nil
		}
		cursor = *next
	}
}

// each runs f for 0..n-1, s.parallel at a time; the first error stops it.
func (s *seeder) each(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.parallel)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

type itemJSON struct {
	ID    string `json:"id"`
	SKU   string `json:"sku"`
	Image *struct {
		Status string `json:"status"`
	} `json:"image"`
}

type ref struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// summary counts what a run did and found.
type summary struct {
	locations, locationsMade int
	items, itemsMade         int
	deleted, deletedNow      int
	groups, groupsMade       int
	movements, skipped       int
	photos, photosMade       int
}

func (m summary) String() string {
	return fmt.Sprintf("%d locations (%d new), %d items (%d new), %d deleted (%d now), %d groups (%d new), %d stock movements (%d skipped: done before), %d photos (%d new)",
		m.locations, m.locationsMade, m.items, m.itemsMade, m.deleted, m.deletedNow, m.groups, m.groupsMade, m.movements, m.skipped, m.photos, m.photosMade)
}

// run makes the plan's data exist, creating only what is missing.
func (s *seeder) run(ctx context.Context, p *plan) (summary, error) {
	var sum summary
	if err := s.call(ctx, adminActor, http.MethodGet, "/health", "", nil, nil); err != nil {
		return sum, fmt.Errorf("is make run running at %s? %w", s.api, err)
	}
	var locIDs, ids []string
	phases := []struct {
		name string
		run  func() error
	}{
		{"locations", func() (err error) { locIDs, err = s.locations(ctx, &sum); return err }},
		{"items", func() (err error) { ids, err = s.items(ctx, p, locIDs, &sum); return err }},
		{"groups", func() error { return s.groups(ctx, p, ids, &sum) }},
		{"stock movements", func() error { return s.movements(ctx, p, ids, locIDs, &sum) }},
		{"photos", func() error { return s.photos(ctx, p, ids, &sum) }},
		{"deletions", func() error { return s.deletions(ctx, p, ids, &sum) }},
	}
	for _, ph := range phases {
		start := time.Now()
		if err := ph.run(); err != nil {
			return sum, err
		}
		s.logf("%-16s %s", ph.name, time.Since(start).Round(time.Millisecond))
	}
	return sum, nil
}

func (s *seeder) logf(format string, args ...any) {
	if s.verbose != nil {
		fmt.Fprintf(s.verbose, format+"\n", args...)
	}
}

// locations: the plan's warehouses by code, created if missing.
func (s *seeder) locations(ctx context.Context, sum *summary) ([]string, error) {
	have, err := all[ref](ctx, s, "/locations", "locations")
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(locations))
	for i, l := range locations {
		if j := slices.IndexFunc(have, func(r ref) bool { return r.Code == l.Code }); j >= 0 {
			ids[i] = have[j].ID
			continue
		}
		var made ref
		body := map[string]any{"code": l.Code, "name": l.Name, "address": l.Address}
		if err := s.call(ctx, adminActor, http.MethodPost, "/locations", key(s.seed, "location", l.Code), body, &made); err != nil {
			return nil, err
		}
		ids[i] = made.ID
		sum.locationsMade++
	}
	sum.locations = len(ids)
	return ids, nil
}

// items: the plan's items by SKU (live or deleted), created if missing;
// ids[i] is plan item i's id ("" when someone else deleted it since).
func (s *seeder) items(ctx context.Context, p *plan, locIDs []string, sum *summary) ([]string, error) {
	live, err := all[itemJSON](ctx, s, "/items", "items")
	if err != nil {
		return nil, err
	}
	gone, err := all[itemJSON](ctx, s, "/deleted-items", "items")
	if err != nil {
		return nil, err
	}
	bySKU := map[string]string{}
	deleted := map[string]bool{}
	for _, it := range gone {
		bySKU[it.SKU], deleted[it.SKU] = it.ID, true
	}
	for _, it := range live {
		bySKU[it.SKU] = it.ID
		delete(deleted, it.SKU)
	}
	ids := make([]string, len(p.Items))
	var mu sync.Mutex
	err = s.each(ctx, len(p.Items), func(ctx context.Context, i int) error {
		it := p.Items[i]
		if id, ok := bySKU[it.SKU]; ok {
			if deleted[it.SKU] && it.Deleted == "" {
				return nil // deleted by someone since: left alone
			}
			ids[i] = id
			return nil
		}
		body := map[string]any{"sku": it.SKU, "name": it.Name, "description": it.Description, "tags": it.Tags,
			"quantity": it.Quantity, "reorderPoint": it.ReorderPoint, "locationId": locIDs[it.Location]}
		var made itemJSON
		if err := s.call(ctx, actorOf(it.SKU), http.MethodPost, "/items", key(s.seed, "item", it.SKU), body, &made); err != nil {
			return err
		}
		mu.Lock()
		ids[i] = made.ID
		s.made[i] = true
		sum.itemsMade++
		mu.Unlock()
		return nil
	})
	for i, id := range ids {
		if id != "" && p.Items[i].Deleted == "" {
			sum.items++
		}
	}
	return ids, err
}

// groups: the plan's groups by name, created if missing, with their members
// (adding a member twice changes nothing).
func (s *seeder) groups(ctx context.Context, p *plan, ids []string, sum *summary) error {
	have, err := all[ref](ctx, s, "/groups", "groups")
	if err != nil {
		return err
	}
	for _, g := range p.Groups {
		actor := actorOf(g.Name)
		id := ""
		if j := slices.IndexFunc(have, func(r ref) bool { return strings.EqualFold(r.Name, g.Name) }); j >= 0 {
			id = have[j].ID
		} else {
			var made ref
			if err := s.call(ctx, actor, http.MethodPost, "/groups", key(s.seed, "group", g.Name),
				map[string]any{"name": g.Name, "description": g.Description}, &made); err != nil {
				return err
			}
			id = made.ID
			sum.groupsMade++
		}
		var add []string
		for _, m := range g.Members {
			if ids[m] != "" {
				add = append(add, ids[m])
			}
		}
		if len(add) > 0 {
			if err := s.call(ctx, actor, http.MethodPost, "/groups/"+id+"/items", key(s.seed, "group", g.Name, "members", digest(add)),
				map[string]any{"add": add}, nil); err != nil {
				return err
			}
		}
		sum.groups++
	}
	return nil
}

// movements applies the plan's stock history to the items whose ledger
// holds only their creation (all of them on a first run, none on a second),
// each movement after the earlier ones of the same items, the others in
// parallel.
func (s *seeder) movements(ctx context.Context, p *plan, ids, locIDs []string, sum *summary) error {
	touched := map[int]bool{}
	for _, m := range p.Movements {
		for _, i := range m.items() {
			touched[i] = true
		}
	}
	list := make([]int, 0, len(touched))
	for i := range touched {
		list = append(list, i)
	}
	sort.Ints(list)
	fresh, err := s.fresh(ctx, p, ids, list)
	if err != nil {
		return err
	}

	// done[k] closes when movement k has been made (or skipped); a
	// movement waits for the last earlier one of each of its items.
	done := make([]chan struct{}, len(p.Movements))
	deps := make([][]int, len(p.Movements))
	last := map[int]int{}
	for k, m := range p.Movements {
		done[k] = make(chan struct{})
		for _, i := range m.items() {
			if j, ok := last[i]; ok && !slices.Contains(deps[k], j) {
				deps[k] = append(deps[k], j)
			}
			last[i] = k
		}
	}
	var mu sync.Mutex
	return s.each(ctx, len(p.Movements), func(ctx context.Context, k int) error {
		defer close(done[k])
		for _, j := range deps[k] {
			select {
			case <-done[j]:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		m := p.Movements[k]
		for _, i := range m.items() {
			if !fresh[i] {
				mu.Lock()
				sum.skipped++
				mu.Unlock()
				return nil
			}
		}
		if err := s.move(ctx, k, m, ids, locIDs); err != nil {
			return err
		}
		mu.Lock()
		sum.movements++
		mu.Unlock()
		return nil
	})
}

// fresh tells, for each item of list, whether its ledger holds no more
// than its creation: made by this run, or else counted from the ledgers of
// all locations (a few pages each, where asking each item would be a
// request an item).
func (s *seeder) fresh(ctx context.Context, p *plan, ids []string, list []int) ([]bool, error) {
	fresh := make([]bool, len(p.Items))
	old := false
	for _, i := range list {
		fresh[i] = ids[i] != "" && s.made[i]
		old = old || (ids[i] != "" && !s.made[i])
	}
	if !old {
		return fresh, nil
	}
	locs, err := all[ref](ctx, s, "/locations", "locations")
	if err != nil {
		return nil, err
	}
	lines := map[string]int{} // by item id
	var mu sync.Mutex
	err = s.each(ctx, len(locs), func(ctx context.Context, k int) error {
		entries, err := all[struct {
			ItemID string `json:"itemId"`
		}](ctx, s, "/locations/"+locs[k].ID+"/history", "entries")
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range entries {
			lines[e.ItemID]++
		}
		return nil
	})
	for _, i := range list {
		fresh[i] = ids[i] != "" && lines[ids[i]] <= 1
	}
	return fresh, err
}

// move makes one movement.
func (s *seeder) move(ctx context.Context, k int, m movement, ids, locIDs []string) error {
	actor := actorOf(fmt.Sprint("movement", k))
	idem := key(s.seed, "movement", k)
	l := m.Lines[0]
	switch m.Kind {
	case "adjustment":
		var lines []map[string]any
		for _, l := range m.Lines {
			lines = append(lines, map[string]any{"itemId": ids[l.Item], "locationId": locIDs[l.Location], "delta": l.Delta})
		}
		body := map[string]any{"reason": m.Reason, "lines": lines, "note": m.Note}
		if m.Reference != "" {
			body["reference"] = m.Reference
		}
		return s.call(ctx, actor, http.MethodPost, "/adjustments", idem, body, nil)
	case "transfer":
		body := map[string]any{"itemId": ids[l.Item], "fromLocationId": locIDs[l.Location], "toLocationId": locIDs[m.To], "quantity": l.Delta}
		if m.Note != "" {
			body["note"] = m.Note
		}
		return s.call(ctx, actor, http.MethodPost, "/transfers", idem, body, nil)
	case "count":
		body := map[string]any{"itemId": ids[l.Item], "locationId": locIDs[l.Location], "counted": l.Delta, "expected": l.Expected}
		return s.call(ctx, actor, http.MethodPost, "/counts", idem, body, nil)
	}
	return fmt.Errorf("movement %d: unknown kind %q", k, m.Kind)
}

// photos: for each planned item without an image, a photo drawn and
// uploaded as a browser would (the presigned POST's fields, then the
// file); then it waits for MakeThumbnails to have made the thumbnails.
func (s *seeder) photos(ctx context.Context, p *plan, ids []string, sum *summary) error {
	var want []int
	for i, it := range p.Items {
		if it.Photo && ids[i] != "" && it.Deleted == "" {
			want = append(want, i)
		}
	}
	var mu sync.Mutex
	var waiting []int
	err := s.each(ctx, len(want), func(ctx context.Context, k int) error {
		i := want[k]
		var cur itemJSON
		if err := s.call(ctx, adminActor, http.MethodGet, "/items/"+ids[i], "", nil, &cur); err != nil {
			return err
		}
		if cur.Image != nil && cur.Image.Status != "expired" && cur.Image.Status != "failed" {
			return nil
		}
		data, contentType, err := photo(p.Items[i].SKU, i)
		if err != nil {
			return err
		}
		var up struct {
			URL    string            `json:"url"`
			Fields map[string]string `json:"fields"`
		}
		actor := actorOf(p.Items[i].SKU)
		if err := s.call(ctx, actor, http.MethodPost, "/items/"+ids[i]+"/image-uploads", key(s.seed, "photo", p.Items[i].SKU, len(data)),
			map[string]any{"contentType": contentType}, &up); err != nil {
			return err
		}
		if err := s.upload(ctx, up.URL, up.Fields, data); err != nil {
			return fmt.Errorf("photo of %s: %w", p.Items[i].SKU, err)
		}
		mu.Lock()
		waiting = append(waiting, i)
		sum.photosMade++
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	sum.photos = len(want)
	// MakeThumbnails runs on S3's event, within a moment.
	return s.each(ctx, len(waiting), func(ctx context.Context, k int) error {
		id := ids[waiting[k]]
		for {
			var cur itemJSON
			if err := s.call(ctx, adminActor, http.MethodGet, "/items/"+id, "", nil, &cur); err != nil {
				return err
			}
			if cur.Image == nil || cur.Image.Status != "pending" {
				if cur.Image == nil || cur.Image.Status != "ready" {
					return fmt.Errorf("the photo of item %s was not processed: %+v", id, cur.Image)
				}
				return nil
			}
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return fmt.Errorf("the photo of item %s is still pending: %w", id, ctx.Err())
			}
		}
	})
}

// upload posts a presigned form: the fields (key first), then the file.
func (s *seeder) upload(ctx context.Context, target string, fields map[string]string, data []byte) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Slice(names, func(a, b int) bool {
		if names[a] == "key" || names[b] == "key" {
			return names[a] == "key"
		}
		return names[a] < names[b]
	})
	for _, k := range names {
		if err := mw.WriteField(k, fields[k]); err != nil {
			return err
		}
	}
	fw, err := mw.CreateFormFile("file", "photo")
	if err != nil {
		return err
	}
	fw.Write(data)
	if err := mw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		return fmt.Errorf("POST to S3: %d %s", resp.StatusCode, msg)
	}
	return nil
}

// deletions: the plan's deleted items, deleted with their comment unless
// they already are.
func (s *seeder) deletions(ctx context.Context, p *plan, ids []string, sum *summary) error {
	gone, err := all[itemJSON](ctx, s, "/deleted-items", "items")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	err = s.each(ctx, len(p.Items), func(ctx context.Context, i int) error {
		it := p.Items[i]
		if it.Deleted == "" || ids[i] == "" || slices.ContainsFunc(gone, func(g itemJSON) bool { return g.ID == ids[i] }) {
			return nil
		}
		if err := s.call(ctx, actorOf(it.SKU), http.MethodDelete, "/items/"+ids[i], key(s.seed, "delete", it.SKU),
			map[string]any{"comment": it.Deleted}, nil); err != nil && !isCode(err, http.StatusNotFound, "") {
			return err
		}
		mu.Lock()
		sum.deletedNow++
		mu.Unlock()
		return nil
	})
	for _, it := range p.Items {
		if it.Deleted != "" {
			sum.deleted++
		}
	}
	return err
}
