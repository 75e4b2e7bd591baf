// The vpccni CNI plugin: an exec shim that forwards each call to the node agent.
//
// The container runtime executes this program for every CNI call. It hands the call, its
// CNI_* variables and stdin as they came, to the agent's unix socket (POST /v1/cni/call) and
// prints the agent's answer exactly, exiting with the agent's status. Every decision (parsing,
// results, error codes, mixed mode) is the agent's, in TypeScript (runtime/cni/calls.ts).
// When the agent needs something done where the runtime runs plugins (mixed mode's record
// files and the delegated plugins' runs), its answer is a host operation: the shim does it and
// returns the result (POST /v1/cni/resume) until the answer is final.
//
// The shim itself answers only what the agent cannot: skel's checks of the environment and
// VERSION, a stdin over the size limit, and an agent it cannot reach (11, or 50 for STATUS).
// It is Go because a Bun program's start-up alone costs more than the reference plugins'
// whole call (docs/cni.md); it is built by scripts/build-cni.sh.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// The agent's defaults (schema/cni.ts, runtime/cni/protocol.ts); test/dataplane checks they agree.
const (
	defaultSocket    = "/run/vpccni/cni.sock"
	defaultTimeoutMs = 25000
	statusTimeoutMs  = 2000
	defaultCacheDir  = "/var/lib/cni/vpccni"
	// Stdin is read up to this many bytes and one more; more is refused (no unbounded read).
	maxStdinBytes = 1 << 20
)

var supported = []string{"0.4.0", "1.0.0", "1.1.0"}

// isCniVar: a name of CNI_ and 1 to 60 of A-Z a-z 0-9 _, as the agent takes them. A loop,
// not a regular expression: compiling one at start-up cost 0.3 ms of CPU a call.
func isCniVar(k string) bool {
	if len(k) < 5 || len(k) > 64 || !strings.HasPrefix(k, "CNI_") {
		return false
	}
	for i := 4; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// The few netconf fields the shim needs: where the agent is, how long to wait, and which
// files mixed mode may touch.
type netconf struct {
	CniVersion string   `json:"cniVersion"`
	Socket     string   `json:"socket"`
	TimeoutMs  *float64 `json:"timeoutMs"`
	Delegate   *struct {
		Conflist string `json:"conflist"`
		CacheDir string `json:"cacheDir"`
	} `json:"delegate"`
}

var input []byte

func main() {
	if os.Getenv("CNI_COMMAND") != "VERSION" {
		input = readStdin()
		if len(input) > maxStdinBytes {
			fail(types.ErrInvalidNetworkConfig, fmt.Sprintf("network configuration on stdin is larger than %d bytes", maxStdinBytes), "")
		}
		feedStdin(input)
	}
	funcs := skel.CNIFuncs{Add: forward, Del: forward, Check: forward, GC: forward, Status: forward}
	if e := skel.PluginMainFuncsWithError(funcs, version.PluginSupports(supported...), ""); e != nil {
		fail(e.Code, e.Msg, e.Details)
	}
}

// readStdin reads at most maxStdinBytes + 1 bytes, so an endless stdin cannot exhaust memory.
func readStdin() []byte {
	data, err := io.ReadAll(io.LimitReader(os.Stdin, maxStdinBytes+1))
	if err != nil {
		fail(types.ErrIOFailure, fmt.Sprintf("reading stdin: %v", err), "")
	}
	return data
}

// feedStdin gives skel the bytes already read, as its stdin.
func feedStdin(data []byte) {
	r, w, err := os.Pipe()
	if err != nil {
		fail(types.ErrIOFailure, fmt.Sprintf("pipe: %v", err), "")
	}
	go func() {
		_, _ = w.Write(data)
		_ = w.Close()
	}()
	os.Stdin = r
}

// fail prints a CNI error on stdout, in the netconf's cniVersion when it is one we support.
func fail(code uint, msg, details string) {
	out := map[string]any{"cniVersion": "1.1.0", "code": code, "msg": msg}
	var conf netconf
	if json.Unmarshal(input, &conf) == nil {
		for _, v := range supported {
			if conf.CniVersion == v {
				out["cniVersion"] = v
			}
		}
	}
	if details != "" {
		out["details"] = details
	}
	text, _ := json.Marshal(out)
	_, _ = os.Stdout.Write(append(text, '\n'))
	os.Exit(1)
}

type callRequest struct {
	Env   map[string]string `json:"env"`
	Stdin string            `json:"stdin"`
}

type resumeRequest struct {
	Session string     `json:"session"`
	Result  hostResult `json:"result"`
}

type reply struct {
	Done *struct {
		Stdout   string `json:"stdout"`
		ExitCode int    `json:"exitCode"`
	} `json:"done"`
	Session string  `json:"session"`
	Op      *hostOp `json:"op"`
}

func forward(args *skel.CmdArgs) error {
	var conf netconf
	_ = json.Unmarshal(args.StdinData, &conf) // skel has checked it is JSON; the agent checks the rest
	command := os.Getenv("CNI_COMMAND")
	a := agent{socket: conf.Socket, timeout: time.Duration(defaultTimeoutMs) * time.Millisecond, status: command == "STATUS"}
	if a.socket == "" {
		a.socket = defaultSocket
	}
	if a.status {
		a.timeout = statusTimeoutMs * time.Millisecond
	}
	if conf.TimeoutMs != nil && *conf.TimeoutMs >= 1 && *conf.TimeoutMs <= 120000 {
		a.timeout = time.Duration(*conf.TimeoutMs) * time.Millisecond
	}
	// The CNI variables only (the agent takes names of CNI_ and 1 to 60 of A-Z a-z 0-9 _):
	// the rest of the runtime's environment stays here.
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && isCniVar(k) {
			env[k] = v
		}
	}
	h := newHost(conf, args.Path)
	r, err := a.post("/v1/cni/call", callRequest{Env: env, Stdin: string(args.StdinData)})
	for err == nil && r.Done == nil {
		if r.Op == nil {
			return types.NewError(102, "the agent's answer is neither done nor an operation", "")
		}
		result := h.do(r.Op)
		r, err = a.post("/v1/cni/resume", resumeRequest{Session: r.Session, Result: result})
	}
	if err != nil {
		return err
	}
	_, _ = os.Stdout.WriteString(r.Done.Stdout)
	os.Exit(r.Done.ExitCode)
	return nil
}
