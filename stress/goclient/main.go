// A statically linked TLS client for the stress harness's mixed workload: Go's own TLS stack
// (crypto/tls, no OpenSSL), so the sensor sees it only on the wire. It handshakes against the
// given addresses in turn for the given number of seconds, a new connection each time, and prints
// one JSON object: the handshakes' latencies, their local and remote ports, and the errors.
//
//	goclient -seconds 5 -sni mixed.test 127.0.0.1:4433 [::1]:4434
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"net"
	"os"
	"time"
)

type result struct {
	LatenciesMs []float64 `json:"latencies_ms"`
	Ends        [][2]int  `json:"ends"` // [local port, remote port]
	Errors      int       `json:"errors"`
}

func main() {
	seconds := flag.Float64("seconds", 5, "how long to handshake")
	sni := flag.String("sni", "go.stress.test", "server name to send")
	flag.Parse()
	config := &tls.Config{InsecureSkipVerify: true, ServerName: *sni, MinVersion: tls.VersionTLS13}
	out := result{LatenciesMs: []float64{}, Ends: [][2]int{}}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	for i := 0; time.Now().Before(deadline); i++ {
		addr := flag.Arg(i % flag.NArg())
		started := time.Now()
		raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			out.Errors++
			continue
		}
		conn := tls.Client(raw, config)
		if err := conn.Handshake(); err != nil {
			out.Errors++
			raw.Close()
			continue
		}
		out.LatenciesMs = append(out.LatenciesMs, float64(time.Since(started).Microseconds())/1000)
		local := raw.LocalAddr().(*net.TCPAddr).Port
		remote := raw.RemoteAddr().(*net.TCPAddr).Port
		out.Ends = append(out.Ends, [2]int{local, remote})
		raw.(*net.TCPConn).SetLinger(0) // close with a reset, as the Python workers do
		conn.Close()
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
