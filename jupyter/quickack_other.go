//go:build !linux

package jupyter

import "net"

// quickAck returns conn unchanged: TCP_QUICKACK is Linux-only.
func quickAck(conn net.Conn) net.Conn { return conn }
