// Command argocd-lua runs an Argo CD resource health check as Argo CD 3 runs a script from argocd-cm
// (util/lua in argo-cd): gopher-lua with only the package, base and table libraries and Argo CD's
// safe subset of os (time, date), so no string or math unless the user enables useOpenLibs; the
// object as the global `obj`, decoded as a client reads it (integers as int64); one second to
// run; the returned table read as {status, message}, an unknown status becoming Unknown; and, for
// an object being deleted, gitops-engine's rule (pkg/health): the script's status with its
// deletionMessage, else Progressing "Pending deletion".
// Usage: argocd-lua SCRIPT < objects  (a stream of JSON objects; one JSON line out per object)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	luajson "layeh.com/gopher-json"
)

type health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	// Set by a script for an object being deleted; Argo CD shows it instead of message then.
	DeletionMessage string `json:"deletionMessage,omitempty"`
}

// Argo CD's HealthStatusCode values; a script that returns anything else reads as Unknown.
var validStatus = map[string]bool{"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-lua SCRIPT < objects")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua:", err)
		os.Exit(1)
	}
}

func run(scriptFile string, in io.Reader, out io.Writer) error {
	script, err := os.ReadFile(scriptFile)
	if err != nil {
		return err
	}
	decoder := json.NewDecoder(in)
	decoder.UseNumber()
	encoder := json.NewEncoder(out)
	for {
		var obj any
		if err := decoder.Decode(&obj); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		result, err := assess(string(script), obj)
		if err != nil {
			// Argo CD shows a failing script as health Unknown with the error; here it is a bug to fix.
			return err
		}
		if err := encoder.Encode(whileDeleting(obj, result)); err != nil {
			return err
		}
	}
}

// assess runs the script on one object in a fresh state, as Argo CD does for every object.
func assess(script string, obj any) (health, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.OsLibName, lua.OpenOs}} {
		if err := state.CallByParam(lua.P{Fn: state.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			return health{}, err
		}
	}
	keepSafeOs(state)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	state.SetGlobal("actionParams", state.NewTable())
	state.SetGlobal("obj", toLua(state, obj))
	if err := state.DoString(script); err != nil {
		return health{}, err
	}
	returned := state.Get(-1)
	if returned.Type() != lua.LTTable {
		return health{}, fmt.Errorf("expect table output from Lua script, not %s", returned.Type())
	}
	encoded, err := luajson.Encode(returned)
	if err != nil {
		return health{}, err
	}
	var result health
	if err := json.Unmarshal(encoded, &result); err != nil {
		return health{}, err
	}
	if !validStatus[result.Status] {
		return health{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return result, nil
}

// whileDeleting applies gitops-engine's pendingDeletionHealth: an object with a deletionTimestamp
// shows the script's status with its deletionMessage, or Progressing "Pending deletion" without one.
func whileDeleting(obj any, result health) health {
	object, _ := obj.(map[string]any)
	metadata, _ := object["metadata"].(map[string]any)
	if metadata["deletionTimestamp"] == nil {
		return health{Status: result.Status, Message: result.Message}
	}
	if result.DeletionMessage != "" {
		return health{Status: result.Status, Message: result.DeletionMessage}
	}
	message := "Pending deletion"
	if finalizers, _ := metadata["finalizers"].([]any); len(finalizers) > 0 {
		names := make([]string, len(finalizers))
		for i, finalizer := range finalizers {
			names[i] = fmt.Sprint(finalizer)
		}
		message += "; blocked by finalizers: " + strings.Join(names, ", ")
	}
	return health{Status: "Progressing", Message: message}
}

// keepSafeOs cuts os (global and require("os")) down to what Argo CD gives scripts: os.time and
// os.date, whose implementations Argo CD copies from gopher-lua; nothing that touches the machine.
func keepSafeOs(state *lua.LState) {
	full, _ := state.GetGlobal(lua.OsLibName).(*lua.LTable)
	safe := state.NewTable()
	for _, name := range []string{"time", "date"} {
		safe.RawSetString(name, full.RawGetString(name))
	}
	state.SetGlobal(lua.OsLibName, safe)
	state.SetField(state.GetField(state.Get(lua.RegistryIndex), "_LOADED"), lua.OsLibName, safe)
}

// toLua converts a decoded JSON value as Argo CD's decodeValue converts an unstructured object.
func toLua(state *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case map[string]any:
		table := state.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(state, item))
		}
		return table
	case []any:
		table := state.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(state, item))
		}
		return table
	case string:
		return lua.LString(v)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return lua.LNumber(n)
		}
		f, _ := v.Float64()
		return lua.LNumber(f)
	case bool:
		return lua.LBool(v)
	default:
		return lua.LNil
	}
}
