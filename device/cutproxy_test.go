package device_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// cutProxy is a TCP proxy between the device and the server that damages the
// device's byte stream on cue, by byte count (never by time): armCut drops
// the connection after n more bytes from the device, armFlipEach flips the
// bit pattern of one byte that is not ASCII in every read. Request
// lines and headers are ASCII, so the damaged byte is always in an upload's
// body, wherever the resumed upload's offset lies after a cut (how much of
// the bytes before a cut the server kept depends on when the reset reached
// it), so the test asserts what a cut must leave (a resumable upload, no
// change on the server), not the offset it leaves.
type cutProxy struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	cutIn     int64 // bytes until the cut; -1: none armed
	flipIn    int64 // bytes until the flipped byte; -1: none armed
	flipEach  bool  // flip again in every later read until disarmed
	cuts      int
	flips     int
	forwarded int64 // device → server, in all
	open      map[net.Conn]bool
	conns     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, cutIn: -1, flipIn: -1, open: map[net.Conn]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.open[c] = true
			p.mu.Unlock()
			p.conns.Add(1)
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		// Idle keep-alive connections of the devices' HTTP clients end here,
		// not at the server's idle timeout.
		p.mu.Lock()
		for c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		p.conns.Wait()
	})
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) armCut(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutIn = n
}

// armFlipEach damages one non-ASCII byte in every read from the device
// until disarmFlip: every request body that reaches the server is damaged,
// including one the client sends again because the server refused the first
// before reading it (a lock still held by the request a cut interrupted).
func (p *cutProxy) armFlipEach() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flipIn, p.flipEach = 0, true
}

func (p *cutProxy) disarmFlip() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flipIn, p.flipEach = -1, false
}

func (p *cutProxy) counts() (cuts, flips int, forwarded int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts, p.flips, p.forwarded
}

func (p *cutProxy) serve(dev net.Conn) {
	defer p.conns.Done()
	defer func() {
		p.mu.Lock()
		delete(p.open, dev)
		p.mu.Unlock()
	}()
	srv, err := net.Dial("tcp", p.target)
	if err != nil {
		dev.Close()
		return
	}
	back := make(chan struct{})
	go func() {
		defer close(back)
		_, _ = io.Copy(dev, srv)
		dev.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := dev.Read(buf)
		if n > 0 {
			chunk, cut := p.pass(buf[:n])
			_, werr := srv.Write(chunk)
			if cut {
				// The device loses its network; the server reads exactly the
				// forwarded bytes, then the end of the stream.
				dev.Close()
				_ = srv.(*net.TCPConn).CloseWrite()
				<-back
				srv.Close()
				return
			}
			if werr != nil {
				break
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = srv.(*net.TCPConn).CloseWrite()
				<-back
				srv.Close()
				return
			}
			break
		}
	}
	dev.Close()
	srv.Close()
	<-back
}

// pass applies the armed damage to one read from the device: the bytes to
// forward, and whether to cut after them.
func (p *cutProxy) pass(b []byte) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := int64(len(b))
	if p.flipIn >= n {
		p.flipIn -= n
	} else if p.flipIn >= 0 {
		i := p.flipIn
		for i < n && b[i] < 0x80 {
			i++
		}
		if i < n {
			b[i] ^= 0xFF
			p.flipIn = -1
			p.flips++
			if p.flipEach {
				p.flipIn = 0
			}
		} else {
			p.flipIn = 0 // the next non-ASCII byte
		}
	}
	if p.cutIn >= 0 && p.cutIn <= n {
		b = b[:p.cutIn]
		p.cutIn = -1
		p.cuts++
		p.forwarded += int64(len(b))
		return b, true
	} else if p.cutIn >= 0 {
		p.cutIn -= n
	}
	p.forwarded += n
	return b, false
}
