package clustertest

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrBypass is returned when route connections that do not go through the proxies cannot
// be severed: a cut would then not cut.
var ErrBypass = errors.New("clustertest: route connections bypass the proxies")

// NATS servers tell each other the route addresses of the servers they know ("gossip")
// and dial the ones they are not yet routed to: a node can so reach a peer's route
// listener directly, around the proxies, and a cut would leave that connection up. The
// harness finds such connections in /proc/net/tcp and closes them with `ss -K` (socket
// destroy, which needs CAP_NET_ADMIN); the servers then route through the proxies they
// are configured with. It does so continuously while the cluster runs.

// tcpConn is one established loopback connection, as host:port pairs.
type tcpConn struct{ local, remote string }

// establishedTCP reads the established IPv4 connections of the machine.
func establishedTCP() ([]tcpConn, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return nil, fmt.Errorf("clustertest: %w", err)
	}
	defer f.Close()
	var out []tcpConn
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "01" { // 01 = ESTABLISHED
			continue
		}
		local, err1 := procAddr(fields[1])
		remote, err2 := procAddr(fields[2])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, tcpConn{local: local, remote: remote})
	}
	return out, sc.Err()
}

// procAddr decodes "0100007F:1F90" (address in host byte order, port big endian).
func procAddr(s string) (string, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok || len(ipHex) != 8 {
		return "", fmt.Errorf("clustertest: address %q", s)
	}
	b, err := hex.DecodeString(ipHex)
	if err != nil {
		return "", err
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return "", err
	}
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, binary.LittleEndian.Uint32(b))
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)), nil
}

// bypasses lists the connections to a node's route listener that no proxy dialed.
func (c *Cluster) bypasses() ([]tcpConn, error) {
	conns, err := establishedTCP()
	if err != nil {
		return nil, err
	}
	var out []tcpConn
	for _, tc := range conns {
		for j, n := range c.nodes {
			if tc.remote != n.Route {
				continue
			}
			proxied := false
			for i := range c.nodes {
				if p := c.proxies[i][j]; p != nil && p.dialedFrom(tc.local) {
					proxied = true
				}
			}
			if !proxied {
				out = append(out, tc)
			}
		}
	}
	return out, nil
}

// severBypasses closes every connection that bypasses the proxies and reports how many
// it found.
func (c *Cluster) severBypasses() (int, error) {
	found, err := c.bypasses()
	if err != nil || len(found) == 0 {
		return 0, err
	}
	for _, tc := range found {
		out, err := exec.Command("ss", "-K", "dst", tc.remote, "src", tc.local).CombinedOutput()
		if err != nil {
			return len(found), fmt.Errorf("%w: ss -K %s→%s: %v: %s", ErrBypass, tc.local, tc.remote, err, strings.TrimSpace(string(out)))
		}
	}
	// ss exits 0 when the kernel refuses to destroy a socket: check that they are gone.
	left, err := c.bypasses()
	if err != nil {
		return len(found), err
	}
	for _, l := range left {
		for _, f := range found {
			if l == f {
				return len(found), fmt.Errorf("%w: %s→%s survives ss -K (CAP_NET_ADMIN and a kernel with socket destroy are needed)", ErrBypass, l.local, l.remote)
			}
		}
	}
	return len(found), nil
}

// guardRoutes severs bypassing connections every interval until ctx ends; the first
// failure is kept for CutOff to report.
func (c *Cluster) guardRoutes(ctx context.Context, interval time.Duration) {
	defer close(c.guardDone)
	for {
		n, err := c.severBypasses()
		c.guardMu.Lock()
		c.severed += n
		if err != nil && c.guardErr == nil {
			c.guardErr = err
		}
		c.guardMu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Severed is how many connections around the proxies the harness has closed.
func (c *Cluster) Severed() int {
	c.guardMu.Lock()
	defer c.guardMu.Unlock()
	return c.severed
}
