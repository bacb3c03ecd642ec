// Command go-service is a tiny HTTP service whose version is set at build time:
//
//	go build -ldflags "-X main.version=$CI_COMMIT_REF_SLUG"
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

// version is replaced by the linker (-X main.version=...).
var version = "dev"

func greeting(name string) string {
	if name == "" {
		name = "world"
	}
	return fmt.Sprintf("hello, %s (go-service %s)\n", name, version)
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		os.Exit(0)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, greeting(r.URL.Query().Get("name")))
	})
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	log.Printf("go-service %s listening on %s", version, *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
