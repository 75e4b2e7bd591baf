package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containernetworking/cni/pkg/types"
)

// agent is one HTTP/1.1 request per connection on the agent's unix socket.
type agent struct {
	socket  string
	timeout time.Duration
	// STATUS: an unreachable agent is 50 (plugin not available), not 11 (try again later).
	status bool
}

func (a agent) unreachable(format string, v ...any) *types.Error {
	if a.status {
		return types.NewError(50, "node agent unavailable: "+fmt.Sprintf(format, v...), "")
	}
	return types.NewError(types.ErrTryAgainLater, fmt.Sprintf(format, v...), "")
}

func (a agent) post(path string, body any) (reply, error) {
	var r reply
	payload, err := json.Marshal(body)
	if err != nil {
		return r, types.NewError(types.ErrInternal, err.Error(), "")
	}
	conn, err := net.DialTimeout("unix", a.socket, a.timeout)
	if err != nil {
		return r, a.unreachable("cannot reach the node agent on %s: %s", a.socket, dialError(err))
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(a.timeout))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", path, len(payload))
	if _, err := conn.Write(append([]byte(head), payload...)); err != nil {
		return r, a.unreachable("agent socket %s failed: %v", a.socket, err)
	}
	status, text, err := readResponse(bufio.NewReader(conn))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return r, a.unreachable("agent did not answer within %d ms on %s", a.timeout.Milliseconds(), a.socket)
		}
		return r, a.unreachable("agent socket %s failed: %v", a.socket, err)
	}
	if status < 200 || status > 299 {
		var e struct {
			Error *struct {
				Code    uint   `json:"code"`
				Message string `json:"message"`
				Details string `json:"details"`
			} `json:"error"`
		}
		if json.Unmarshal(text, &e) == nil && e.Error != nil {
			return r, types.NewError(e.Error.Code, e.Error.Message, e.Error.Details)
		}
		return r, types.NewError(102, fmt.Sprintf("agent answered %s with status %d", path, status), truncate(text))
	}
	if err := json.Unmarshal(text, &r); err != nil || (r.Done == nil && r.Op == nil) {
		return r, types.NewError(102, fmt.Sprintf("agent's answer to %s is not a call reply", path), truncate(text))
	}
	return r, nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// readResponse reads the status and body of one HTTP/1.1 response (Content-Length, chunked, or to EOF).
func readResponse(br *bufio.Reader) (int, []byte, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return 0, nil, err
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/1.") {
		return 0, nil, fmt.Errorf("agent answered with something that is not HTTP: %q", truncate([]byte(line)))
	}
	status, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, nil, fmt.Errorf("agent answered with status %q", parts[1])
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil {
		return 0, nil, err
	}
	switch {
	case strings.EqualFold(header.Get("Transfer-Encoding"), "chunked"):
		body, err := readChunked(br)
		return status, body, err
	case header.Get("Content-Length") != "":
		n, err := strconv.Atoi(header.Get("Content-Length"))
		if err != nil || n < 0 {
			return 0, nil, fmt.Errorf("agent answered with Content-Length %q", header.Get("Content-Length"))
		}
		body := make([]byte, n)
		_, err = io.ReadFull(br, body)
		return status, body, err
	default:
		body, err := io.ReadAll(br)
		return status, body, err
	}
}

func readChunked(br *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 32)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			return body, nil
		}
		chunk := make([]byte, size+2)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, err
		}
		body = append(body, chunk[:size]...)
	}
}

// dialError says why a connect to the agent's socket failed, in words a node operator can act on.
func dialError(err error) string {
	switch {
	case errors.Is(err, syscall.EACCES):
		return "permission denied: the agent's socket is root's alone (0600), and container runtimes run CNI plugins as root"
	case errors.Is(err, syscall.ENOENT):
		return "no such socket: is the vpccni agent running on this node?"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: the agent is not listening (restarting?)"
	default:
		return err.Error()
	}
}
