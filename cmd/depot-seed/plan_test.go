package main

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"reflect"
	"regexp"
	"testing"
)

// The plan is the seed's alone, and what the API accepts: unique SKUs of
// the API's pattern, names and tags within bounds, movements that never
// take a level below zero, counts that expect the level the plan reaches.
func TestPlan(t *testing.T) {
	p := newPlan(1, 200, 5, 10)
	if !reflect.DeepEqual(p, newPlan(1, 200, 5, 10)) {
		t.Fatal("two plans of one seed differ")
	}
	if reflect.DeepEqual(p.Items, newPlan(2, 200, 5, 10).Items) {
		t.Error("two seeds make the same items")
	}
	skuPattern := regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	skus := map[string]bool{}
	live, deleted, photos := 0, 0, 0
	for _, it := range p.Items {
		if !skuPattern.MatchString(it.SKU) || skus[it.SKU] {
			t.Errorf("SKU %q: invalid or twice", it.SKU)
		}
		skus[it.SKU] = true
		if it.Name == "" || len(it.Name) > 200 || len(it.Description) > 2000 || len(it.Tags) == 0 || len(it.Tags) > 20 || it.Quantity < 1 {
			t.Errorf("item %+v out of bounds", it)
		}
		if it.Deleted != "" {
			deleted++
		} else {
			live++
		}
		if it.Photo {
			photos++
		}
	}
	if live != 200 || deleted != 5 || photos != 10 {
		t.Errorf("%d live, %d deleted, %d photos; want 200, 5, 10", live, deleted, photos)
	}

	stock := make([][]int, 200)
	for i := range stock {
		stock[i] = make([]int, len(locations))
		stock[i][p.Items[i].Location] = p.Items[i].Quantity
	}
	kinds := map[string]int{}
	for k, m := range p.Movements {
		kinds[m.Kind+" "+m.Reason]++
		for _, l := range m.Lines {
			if l.Item >= 200 {
				t.Fatalf("movement %d touches a deleted item", k)
			}
		}
		switch m.Kind {
		case "adjustment":
			if len(m.Lines) > 30 {
				t.Errorf("movement %d: %d lines", k, len(m.Lines))
			}
			for _, l := range m.Lines {
				stock[l.Item][l.Location] += l.Delta
			}
		case "transfer":
			l := m.Lines[0]
			if l.Location == m.To || l.Delta < 1 {
				t.Errorf("movement %d: transfer %+v to %d", k, l, m.To)
			}
			stock[l.Item][l.Location] -= l.Delta
			stock[l.Item][m.To] += l.Delta
		case "count":
			l := m.Lines[0]
			if stock[l.Item][l.Location] != l.Expected {
				t.Errorf("movement %d: a count expects %d where the plan has %d", k, l.Expected, stock[l.Item][l.Location])
			}
			stock[l.Item][l.Location] = l.Delta
		}
		for _, l := range m.Lines {
			if stock[l.Item][l.Location] < 0 {
				t.Errorf("movement %d leaves item %d at location %d below zero", k, l.Item, l.Location)
			}
		}
	}
	for _, want := range []string{"adjustment received", "adjustment damaged", "adjustment shrinkage", "adjustment returned", "transfer ", "count "} {
		if kinds[want] == 0 {
			t.Errorf("no %q movement: %v", want, kinds)
		}
	}
	for _, g := range p.Groups {
		if len(g.Members) < 5 || len(g.Members) > 100 {
			t.Errorf("group %s has %d members", g.Name, len(g.Members))
		}
	}
	if len(key(1, "group", "Workshop consumables", "members", digest(make([]string, 100)))) > 200 {
		t.Error("an Idempotency-Key longer than the API accepts")
	}
}

// A photo is an image MakeThumbnails can read, in colour, not blank.
func TestPhoto(t *testing.T) {
	for i, sku := range []string{"BOLT-M8-40", "GLOVE-NIT-L"} {
		data, contentType, err := photo(sku, i)
		if err != nil {
			t.Fatal(err)
		}
		img, format, err := image.Decode(bytes.NewReader(data))
		if err != nil || "image/"+format != contentType {
			t.Fatalf("%s: %s decoded as %q: %v", sku, contentType, format, err)
		}
		colours := map[uint32]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 8 {
			for x := b.Min.X; x < b.Max.X; x += 8 {
				r, g, bl, _ := img.At(x, y).RGBA()
				colours[(r>>12)<<8|(g>>12)<<4|bl>>12] = true
			}
		}
		if b.Dx() < 320 || len(colours) < 10 {
			t.Errorf("%s: %v, %d colours: too small or blank", sku, b, len(colours))
		}
	}
}
