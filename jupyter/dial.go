package jupyter

import (
	"context"
	"net"
	"time"
)

// dialer is the TCP dialer under every connection.
var dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

// dialQuickAck dials a TCP connection that acknowledges received data at
// once instead of delaying the ACK.
//
// Jupyter servers write each small kernel message as its own segment with
// Nagle's algorithm on, so the second of two back-to-back messages waits for
// the ACK of the first; a client that delays that ACK (Linux: up to 40 ms)
// stalls every short cell. TLS is layered above this connection, so the
// setting applies to wss too. Go sets TCP_NODELAY on its side by default.
func dialQuickAck(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return quickAck(conn), nil
}
