// nlpod: the one static program behind the lab's local images (no registry here).
//
// Called as "pause" (the sandbox image's entrypoint): sleeps until SIGTERM/SIGINT, reaping the
// children a pod's processes leave to it (it is PID 1 of the pod's PID namespace when shared).
//
// Called as "agnhost" (the test image), with a subcommand:
//
//	agnhost serve [--port N]...        serve TCP and UDP on each port (default 80), answering
//	                                    every connection and datagram with the hostname (the
//	                                    pod's name), like agnhost serve-hostname
//	agnhost connect HOST:PORT [--protocol tcp|udp] [--timeout 1s]
//	                                    exit 0 when HOST:PORT answers (prints what it said),
//	                                    1 when it does not, like agnhost connect
//	agnhost probe [--timeout 1s] PROTO:HOST:PORT...
//	                                    connect to every target at once (PROTO tcp or udp) and print
//	                                    one line per target, in order: "PROTO:HOST:PORT ok" or
//	                                    "PROTO:HOST:PORT fail"; exit 0 (one exec probes a whole row
//	                                    of a reachability matrix)
//	agnhost pause                       as pause
//
// Standard library only, built with CGO_ENABLED=0 so that the image needs nothing else.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if name != "pause" {
		if len(args) == 0 {
			usage()
		}
		name, args = args[0], args[1:]
	}
	switch name {
	case "pause":
		pause()
	case "serve", "serve-hostname":
		serve(args)
	case "connect":
		os.Exit(connect(args))
	case "probe":
		os.Exit(probe(args))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: agnhost serve [--port N]... | agnhost connect HOST:PORT [--protocol tcp|udp] [--timeout D] | agnhost probe [--timeout D] PROTO:HOST:PORT... | pause")
	os.Exit(2)
}

// stopSignals ends the program with status 0 on SIGTERM or SIGINT: the runtime's stop.
func stopSignals() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		os.Exit(0)
	}()
}

// reap collects every exited child, so none stays a zombie under PID 1.
func reap() {
	children := make(chan os.Signal, 16)
	signal.Notify(children, syscall.SIGCHLD)
	go func() {
		for range children {
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}()
}

func pause() {
	stopSignals()
	reap()
	select {}
}

type ports []int

func (p *ports) String() string { return fmt.Sprint(*p) }
func (p *ports) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not 1..65535", s)
		}
		*p = append(*p, n)
	}
	return nil
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var ps ports
	fs.Var(&ps, "port", "a TCP and UDP port to serve (repeatable, or comma-separated)")
	_ = fs.Parse(args)
	if len(ps) == 0 {
		ps = ports{80}
	}
	stopSignals()
	reap()
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	answer := []byte(host + "\n")
	for _, p := range ps {
		tcp, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			fmt.Fprintf(os.Stderr, "serve: tcp %d: %v\n", p, err)
			os.Exit(1)
		}
		udp, err := net.ListenPacket("udp", ":"+strconv.Itoa(p))
		if err != nil {
			fmt.Fprintf(os.Stderr, "serve: udp %d: %v\n", p, err)
			os.Exit(1)
		}
		go serveTCP(tcp, answer)
		go serveUDP(udp, answer)
		fmt.Printf("serving %s on tcp and udp port %d\n", host, p)
	}
	select {}
}

func serveTCP(l net.Listener, answer []byte) {
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go func() {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write(answer)
			_ = c.Close()
		}()
	}
}

func serveUDP(pc net.PacketConn, answer []byte) {
	buf := make([]byte, 2048)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			continue
		}
		_, _ = pc.WriteTo(answer, from)
	}
}

func connect(args []string) int {
	fs := flag.NewFlagSet("connect", flag.ExitOnError)
	protocol := fs.String("protocol", "tcp", "tcp or udp")
	timeout := fs.Duration("timeout", time.Second, "how long to wait for the answer")
	// the destination may come before or after the flags, as in agnhost
	var dest string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		dest, args = args[0], args[1:]
	}
	_ = fs.Parse(args)
	if dest == "" && fs.NArg() > 0 {
		dest = fs.Arg(0)
	}
	if dest == "" || (*protocol != "tcp" && *protocol != "udp") {
		usage()
	}
	line, err := dial(*protocol, dest, *timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	fmt.Print(line)
	return 0
}

// dial connects to dest and returns the first line it answers (UDP: after sending a datagram,
// sent again every third of the timeout, since the first can be lost while ARP resolves).
func dial(protocol, dest string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	c, err := net.DialTimeout(protocol, dest, timeout)
	if err != nil {
		return "", fmt.Errorf("TIMEOUT or REFUSED: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	if protocol == "udp" {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				if _, err := c.Write([]byte("hostname\n")); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(timeout / 3):
				}
			}
		}()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no answer: %v", err)
	}
	return line, nil
}

// probe dials every PROTO:HOST:PORT target at once and prints each one's outcome, in order.
func probe(args []string) int {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	timeout := fs.Duration("timeout", time.Second, "how long each target has to answer")
	_ = fs.Parse(args)
	targets := fs.Args()
	results := make([]string, len(targets))
	done := make(chan struct{}, len(targets))
	for i, t := range targets {
		go func(i int, t string) {
			defer func() { done <- struct{}{} }()
			parts := strings.SplitN(t, ":", 2)
			if len(parts) != 2 || (parts[0] != "tcp" && parts[0] != "udp") {
				results[i] = t + " bad"
				return
			}
			if _, err := dial(parts[0], parts[1], *timeout); err != nil {
				results[i] = t + " fail"
			} else {
				results[i] = t + " ok"
			}
		}(i, t)
	}
	for range targets {
		<-done
	}
	for _, r := range results {
		fmt.Println(r)
	}
	return 0
}
