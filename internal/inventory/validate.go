package inventory

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Limits on item fields.
const (
	MaxNameLen        = 200
	MaxDescriptionLen = 2000
	MaxTags           = 20
	MaxTagLen         = 50
	MaxCommentLen     = 500
)

// Patterns of fields, as openapi.yaml states them (a test holds the two
// equal). They are RE2 and ECMA-262 alike: escapes only \xHH, characters
// above U+00FF literal.
const (
	SKUPattern = `^[A-Za-z0-9._-]{1,64}$`
	// TextPattern: no control character but tab, line feed and carriage
	// return (unicode.IsControl: U+0000-U+001F, U+007F-U+009F).
	TextPattern = `^[^` + controls + `]*$`
	// NonBlankTextPattern: TextPattern with at least one character that
	// is not white space (unicode.IsSpace, as strings.TrimSpace trims).
	NonBlankTextPattern = `^[^` + controls + `]*[^` + controls + blanks + `][^` + controls + `]*$`

	controls = `\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F`
	blanks   = `\x09\x0A\x0D\x20\xA0` + "\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
)

var (
	textRE     = regexp.MustCompile(TextPattern)
	nonBlankRE = regexp.MustCompile(NonBlankTextPattern)
	// skuRE compiles on first use: {1,64} makes a program of 58 KiB that
	// took 0.1 ms of every function's cold start, most of which never
	// check a SKU (make bench's cold start line).
	skuRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(SKUPattern) })
)

// IsValidSKU reports whether s matches SKUPattern.
func IsValidSKU(s string) bool { return skuRE().MatchString(s) }

// CreateInput is the input of a new item; presence of optional fields is
// resolved by the caller.
type CreateInput struct {
	SKU          string
	Name         string
	Description  string
	Quantity     int64
	Tags         []string
	ReorderPoint *int64
	LocationID   string // where the opening quantity is ("": the default location)
}

// Patch is a merge patch of an item: nil means "leave as it is".
type Patch struct {
	SKU             *string
	Name            *string
	Description     *string
	Quantity        *int64
	Tags            *[]string
	ReorderPoint    *int64
	ReorderPointSet bool // true when the patch sets or removes reorderPoint
}

// Validate checks a create input, returning a validation error listing
// every failing field, or nil.
func (in *CreateInput) Validate() error {
	var v validator
	v.sku("/sku", in.SKU)
	v.name("/name", in.Name)
	v.description("/description", in.Description)
	v.nonNegative("/quantity", in.Quantity)
	in.Tags = v.tags("/tags", in.Tags)
	if in.ReorderPoint != nil {
		v.nonNegative("/reorderPoint", *in.ReorderPoint)
	}
	if in.LocationID != "" {
		v.locationID("/locationId", in.LocationID)
	}
	return v.err()
}

// Validate checks a patch, returning a validation error or nil.
func (p *Patch) Validate() error {
	var v validator
	if p.SKU != nil {
		v.sku("/sku", *p.SKU)
	}
	if p.Name != nil {
		v.name("/name", *p.Name)
	}
	if p.Description != nil {
		v.description("/description", *p.Description)
	}
	if p.Quantity != nil {
		v.nonNegative("/quantity", *p.Quantity)
	}
	if p.Tags != nil {
		tags := v.tags("/tags", *p.Tags)
		p.Tags = &tags
	}
	if p.ReorderPoint != nil {
		v.nonNegative("/reorderPoint", *p.ReorderPoint)
	}
	return v.err()
}

// ValidateComment checks a deletion comment.
func ValidateComment(comment string) error {
	var v validator
	v.text("/comment", comment, 0, MaxCommentLen)
	return v.err()
}

// ValidateImageContentType checks the media type an upload is asked for.
func ValidateImageContentType(contentType string) error {
	if slices.Contains(ImageContentTypes, contentType) {
		return nil
	}
	var v validator
	v.add("/contentType", "enum", "contentType must be one of %s", strings.Join(ImageContentTypes, ", "))
	return v.err()
}

type validator struct{ fields []FieldError }

func (v *validator) add(field, code, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return Invalid(CodeValidationFailed, "the request body has invalid fields", v.fields...)
}

func (v *validator) sku(field, s string) {
	if s == "" {
		v.add(field, "required", "sku is required")
		return
	}
	if !IsValidSKU(s) {
		v.add(field, "pattern", "sku must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
	}
}

// blank reports whether s is empty or white space only (it may hold
// control characters, which text reports).
func blank(s string) bool { return textRE.MatchString(s) && !nonBlankRE.MatchString(s) }

func (v *validator) name(field, s string) {
	if blank(s) {
		v.add(field, "required", "name is required and must not be blank")
		return
	}
	v.text(field, s, 1, MaxNameLen)
}

func (v *validator) description(field, s string) { v.text(field, s, 0, MaxDescriptionLen) }

func (v *validator) text(field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		v.add(field, "encoding", "must be valid UTF-8")
	case n < min:
		v.add(field, "too_short", "must be at least %d characters", min)
	case n > max:
		v.add(field, "too_long", "must be at most %d characters, got %d", max, n)
	case !textRE.MatchString(s):
		v.add(field, "control_character", "must not contain control characters")
	}
}

func (v *validator) nonNegative(field string, n int64) {
	if n < 0 {
		v.add(field, "minimum", "must be 0 or more, got %d", n)
	}
}

// tags validates each tag and returns the tags without exact duplicates.
// A list takes at most MaxTags entries, duplicates included (openapi.yaml's
// maxItems).
func (v *validator) tags(field string, tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		if blank(t) {
			v.add(fmt.Sprintf("%s/%d", field, i), "required", "a tag must not be blank")
			continue
		}
		v.text(fmt.Sprintf("%s/%d", field, i), t, 1, MaxTagLen)
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(tags) > MaxTags {
		v.add(field, "too_many", "at most %d tags, got %d", MaxTags, len(tags))
	}
	return out
}
