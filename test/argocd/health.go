// Package argocd runs the Argo CD health check of config/argocd the way Argo
// CD runs a health check pasted into argocd-cm: with gopher-lua (Argo CD's
// version), the object as the global obj, and, as without useOpenLibs, only
// the package, base and table libraries and a safe os (time and date; here
// time alone, which is all a health check could use). string and math are
// not there.
package argocd

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// HealthScript is the path of the LabelGroup health check, in Argo CD's
// resource_customizations layout.
func HealthScript() string {
	_, thisFile, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(thisFile), "..", "..", "config", "argocd", "resource_customizations", "grouping.labelgroup.io", "LabelGroup", "health.lua")
}

// HealthStatus is what a health check returns.
type HealthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// Health runs script on obj (an object as unstructured JSON) and returns the
// health it computes.
func Health(script string, obj map[string]any) (HealthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openSafeOs},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return HealthStatus{}, fmt.Errorf("opening the %s library: %w", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return HealthStatus{}, err
	}
	result, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return HealthStatus{}, fmt.Errorf("the script returned a %s, not a table", l.Get(-1).Type())
	}
	return HealthStatus{Status: luaString(result.RawGetString("status")), Message: luaString(result.RawGetString("message"))}, nil
}

func luaString(v lua.LValue) string {
	if v == lua.LNil {
		return ""
	}
	return v.String()
}

// openSafeOs registers an os library that can only tell the time.
func openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.OsLibName, map[string]lua.LGFunction{
		"time": func(l *lua.LState) int {
			l.Push(lua.LNumber(time.Now().Unix()))
			return 1
		},
	}))
	return 1
}

// toLua converts unstructured JSON to Lua values as Argo CD does: objects and
// arrays to tables, numbers of any Go type to numbers.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetH(lua.LString(key), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
