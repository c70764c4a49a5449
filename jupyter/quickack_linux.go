package jupyter

import (
	"net"
	"syscall"
)

// quickAckConn re-arms TCP_QUICKACK before every read: the kernel clears the
// flag on its own after a while, so setting it once is not enough.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

// quickAck wraps a TCP connection so that it never delays ACKs.
func quickAck(conn net.Conn) net.Conn {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return conn
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return conn
	}
	c := &quickAckConn{TCPConn: tc, raw: raw}
	c.arm()
	return c
}

func (c *quickAckConn) arm() {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

// Read re-arms TCP_QUICKACK, then reads.
func (c *quickAckConn) Read(p []byte) (int, error) {
	c.arm()
	return c.TCPConn.Read(p)
}
