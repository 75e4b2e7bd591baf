package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// hostOp is what the agent asks the shim to do on the node (runtime/cni/host.ts names each).
type hostOp struct {
	Op        string            `json:"op"`
	Path      string            `json:"path"`
	Text      string            `json:"text"`
	Env       map[string]string `json:"env"`
	Stdin     string            `json:"stdin"`
	TimeoutMs int64             `json:"timeoutMs"`
}

type hostResult struct {
	Error    string    `json:"error,omitempty"`
	Text     *string   `json:"text,omitempty"`
	Names    *[]string `json:"names,omitempty"`
	Ok       *bool     `json:"ok,omitempty"`
	Stdout   *string   `json:"stdout,omitempty"`
	ExitCode *int      `json:"exitCode"`
}

// host confines the agent's requests: files only in the mixed-mode cache folder (and reading
// the kept configuration the netconf names), programs only from the folders of CNI_PATH.
type host struct {
	cacheDir string
	conflist string
	binDirs  map[string]bool
}

func newHost(conf netconf, cniPath string) host {
	h := host{cacheDir: defaultCacheDir, binDirs: map[string]bool{}}
	if conf.Delegate != nil {
		h.conflist = conf.Delegate.Conflist
		if conf.Delegate.CacheDir != "" {
			h.cacheDir = filepath.Clean(conf.Delegate.CacheDir)
		}
	}
	for _, d := range filepath.SplitList(cniPath) {
		if d != "" {
			h.binDirs[filepath.Clean(d)] = true
		}
	}
	return h
}

func (h host) inCache(path string) bool {
	return filepath.IsAbs(path) && filepath.Clean(path) == path && strings.HasPrefix(path, h.cacheDir+"/")
}

func (h host) plugin(path string) bool {
	return filepath.IsAbs(path) && filepath.Clean(path) == path && h.binDirs[filepath.Dir(path)]
}

func refused(op hostOp) hostResult {
	return hostResult{Error: fmt.Sprintf("the plugin refuses %s of %q: outside what this call's configuration allows", op.Op, op.Path)}
}

func failed(err error) hostResult {
	return hostResult{Error: err.Error()}
}

func (h host) do(op *hostOp) hostResult {
	switch op.Op {
	case "read":
		if !h.inCache(op.Path) && (h.conflist == "" || op.Path != h.conflist) {
			return refused(*op)
		}
		data, err := os.ReadFile(op.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return hostResult{} // no text: no such file
		}
		if err != nil {
			return failed(err)
		}
		return hostResult{Text: ptr(string(data))}
	case "write":
		if !h.inCache(op.Path) {
			return refused(*op)
		}
		if err := os.MkdirAll(filepath.Dir(op.Path), 0o700); err != nil {
			return failed(err)
		}
		if err := os.WriteFile(op.Path+".tmp", []byte(op.Text), 0o600); err != nil {
			return failed(err)
		}
		if err := os.Rename(op.Path+".tmp", op.Path); err != nil {
			return failed(err)
		}
		return hostResult{Ok: ptr(true)}
	case "remove":
		if !h.inCache(op.Path) {
			return refused(*op)
		}
		if err := os.Remove(op.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return failed(err)
		}
		return hostResult{Ok: ptr(true)}
	case "list":
		if !h.inCache(op.Path) {
			return refused(*op)
		}
		names := []string{}
		if entries, err := os.ReadDir(op.Path); err == nil {
			for _, e := range entries {
				names = append(names, e.Name())
			}
		}
		return hostResult{Names: &names}
	case "executable":
		if !h.plugin(op.Path) {
			return refused(*op)
		}
		st, err := os.Stat(op.Path)
		return hostResult{Ok: ptr(err == nil && st.Mode().IsRegular() && syscall.Access(op.Path, 1) == nil)}
	case "exec":
		if !h.plugin(op.Path) {
			return refused(*op)
		}
		return run(op)
	default:
		return hostResult{Error: fmt.Sprintf("unknown operation %q", op.Op)}
	}
}

// run executes a delegated plugin as the runtime would: this process's environment with the
// agent's CNI_* variables laid over it, stdin given, stderr to the runtime's.
func run(op *hostOp) hostResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(op.TimeoutMs)*time.Millisecond)
	defer cancel()
	cmd := exec.CommandContext(ctx, op.Path)
	env := os.Environ()
	for k, v := range op.Env {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	cmd.Stdin = strings.NewReader(op.Stdin)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	out := stdout.String()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return hostResult{Stdout: &out, ExitCode: nil}
	case err == nil:
		return hostResult{Stdout: &out, ExitCode: ptr(0)}
	case errors.As(err, &exit):
		code := exit.ExitCode()
		if code < 0 {
			return hostResult{Stdout: &out, ExitCode: nil}
		}
		return hostResult{Stdout: &out, ExitCode: &code}
	default:
		return failed(err)
	}
}

func ptr[T any](v T) *T { return &v }
