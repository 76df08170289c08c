// Command kstatus prints kstatus's verdict (status.Compute, as Flux's health checks compute it) on
// each Kubernetes object it reads.
// Usage: kstatus < objects  (a stream of JSON objects; one JSON line {"status","message"} out per object)
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Status  status.Status `json:"status"`
	Message string        `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	decoder := json.NewDecoder(in)
	encoder := json.NewEncoder(out)
	for {
		var raw json.RawMessage
		if err := decoder.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		// As a client reads it from the API server: integers become int64, as kstatus expects.
		var obj unstructured.Unstructured
		if err := obj.UnmarshalJSON(raw); err != nil {
			return err
		}
		result, err := status.Compute(&obj)
		if err != nil {
			return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if err := encoder.Encode(verdict{Status: result.Status, Message: result.Message}); err != nil {
			return err
		}
	}
}
