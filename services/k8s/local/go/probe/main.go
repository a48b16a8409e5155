// A probe for the cluster's own checks, run as a pod: name resolution through the pod's
// DNS, a TCP dial, a file written to and read back from a mounted volume. No image with a
// shell can be pulled here, so the node carries this one (mlgameday.local/probe).
//
//	probe resolve NAME...      print each name's addresses; exit 1 if one does not resolve
//	probe dial HOST:PORT...    exit 1 unless each accepts a TCP connection within 5 s
//	probe write PATH TEXT      write TEXT to PATH, read it back, exit 1 if it differs
//	probe sleep                wait until SIGTERM
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe resolve NAME... | dial HOST:PORT... | write PATH TEXT | sleep")
		os.Exit(2)
	}
	failed := false
	switch os.Args[1] {
	case "resolve":
		for _, name := range os.Args[2:] {
			addrs, err := net.LookupHost(name)
			if err != nil {
				fmt.Printf("%s: %v\n", name, err)
				failed = true
				continue
			}
			fmt.Printf("%s: %v\n", name, addrs)
		}
	case "dial":
		for _, address := range os.Args[2:] {
			conn, err := net.DialTimeout("tcp", address, 5*time.Second)
			if err != nil {
				fmt.Printf("%s: %v\n", address, err)
				failed = true
				continue
			}
			conn.Close()
			fmt.Printf("%s: connected\n", address)
		}
	case "write":
		if len(os.Args) != 4 {
			os.Exit(2)
		}
		if err := os.WriteFile(os.Args[2], []byte(os.Args[3]), 0o644); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		back, err := os.ReadFile(os.Args[2])
		if err != nil || string(back) != os.Args[3] {
			fmt.Printf("read back %q, %v\n", back, err)
			os.Exit(1)
		}
		fmt.Printf("%s: written and read back\n", os.Args[2])
	case "sleep":
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		<-stop
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}
