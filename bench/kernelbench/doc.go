// Command kernelbench compares, for the same trivial cell ("x += 1") on the
// same real Jupyter Server, analyst's jupyter.Session.Execute with the
// kernel's own ZMQ floor (bench/zmq_floor.py, no gateway) and with a naive
// WebSocket client (gorilla's default Dialer, the thinnest exchange).
//
//	go run ./bench/kernelbench [-n 500]
package main
