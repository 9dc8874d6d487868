package clustertest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards TCP connections from its own loopback listener to one target address,
// and knows which NATS server dialed each: a route connection's first INFO names its
// server ("server_name"). Cut closes every connection and refuses new ones; CutFrom does
// so only for the connections a given server dials. Heal undoes both.
type Proxy struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	cut     bool
	cutFrom map[string]bool // origins refused
	conns   map[net.Conn]string
	wg      sync.WaitGroup
}

// NewProxy listens on listen ("127.0.0.1:0" for a free port) and forwards to target.
func NewProxy(listen, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("clustertest: proxy to %s: %w", target, err)
	}
	return proxyOn(ln, target), nil
}

// newGate is the proxy in front of a NATS route listener: it listens on a free port of
// 127.0.0.1 and forwards to the same port of 127.0.0.2, where the server listens.
//
// A NATS server tells its peers about the servers routed to it ("gossip"), at the
// address it sees the route come from (here the proxy's, 127.0.0.1) and the port that
// server listens on. Listening on 127.0.0.2 at the gate's port makes that address the
// gate's, so a peer that dials a server it learnt of by gossip dials through its gate too.
func newGate() (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("clustertest: route gate: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return proxyOn(ln, net.JoinHostPort("127.0.0.2", port)), nil
}

func proxyOn(ln net.Listener, target string) *Proxy {
	p := &Proxy{target: target, ln: ln, cutFrom: map[string]bool{}, conns: map[net.Conn]string{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Addr is the address peers dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut drops every connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// CutFrom drops the connections the server named origin dialed and refuses its new ones.
func (p *Proxy) CutFrom(origin string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutFrom[origin] = true
	for c, o := range p.conns {
		if o == origin {
			c.Close()
		}
	}
}

// HealFrom accepts the connections origin dials again.
func (p *Proxy) HealFrom(origin string) {
	p.mu.Lock()
	delete(p.cutFrom, origin)
	p.mu.Unlock()
}

// Heal accepts every connection again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.cut = false
	clear(p.cutFrom)
	p.mu.Unlock()
}

// Close stops the listener and every connection.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// track registers c as dialed by origin unless that is refused; false means c was closed.
func (p *Proxy) track(c net.Conn, origin string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut || p.cutFrom[origin] {
		c.Close()
		return false
	}
	p.conns[c] = origin
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// serverNameKey precedes the server's name in the INFO a NATS route sends.
var serverNameKey = []byte(`"server_name":"`)

// sniffOrigin reads from the dialer until its server name shows (or 64 KiB, a second, or
// the end pass without it) and returns the name and what it read.
func sniffOrigin(c net.Conn) (string, []byte) {
	var buf []byte
	chunk := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(time.Second))
	defer c.SetReadDeadline(time.Time{})
	for len(buf) < 64<<10 {
		n, err := c.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if i := bytes.Index(buf, serverNameKey); i >= 0 {
			rest := buf[i+len(serverNameKey):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				return string(rest[:j]), buf
			}
		}
		if err != nil {
			break
		}
	}
	return "", buf
}

func (p *Proxy) serve(in net.Conn) {
	defer p.wg.Done()
	if !p.track(in, "") {
		return
	}
	defer p.untrack(in)
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		return // the target is down: the peer sees its connection close, as it would
	}
	if !p.track(out, "") {
		return
	}
	defer p.untrack(out)
	done := make(chan struct{}, 2)
	// Either side ending ends both directions, like a broken link.
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	// The target speaks first (its INFO); the dialer answers with its CONNECT and INFO.
	go pipe(in, out)
	origin, head := sniffOrigin(in)
	p.mu.Lock()
	refused := p.cut || p.cutFrom[origin]
	if !refused {
		p.conns[in], p.conns[out] = origin, origin
	}
	p.mu.Unlock()
	if refused {
		in.Close()
		out.Close()
	} else if _, err := out.Write(head); err == nil {
		io.Copy(out, in)
	}
	out.Close()
	in.Close()
	<-done
}
