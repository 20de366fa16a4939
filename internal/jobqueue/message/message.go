// Package message is the body of a worker's queue message: apart from the
// SQS client, so that reading one links no SDK.
package message

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Job is a message's body: the job a worker is to run.
type Job struct {
	JobID string `json:"jobId"`
}

// Parse reads a message's body: a JSON object with a jobId, and nothing else.
func Parse(body string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var m Job
	if err := dec.Decode(&m); err != nil {
		return "", fmt.Errorf("the message is not a job: %w", err)
	}
	// Anything but white space after the object, as Token sees it (More
	// reports false before a stray "]" or "}").
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("the message is not a job: text after the object")
	}
	if m.JobID == "" {
		return "", errors.New("the message names no job (jobId)")
	}
	return m.JobID, nil
}
