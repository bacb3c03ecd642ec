package main

import "testing"

func TestGreeting(t *testing.T) {
	version = "test"
	if got, want := greeting(""), "hello, world (go-service test)\n"; got != want {
		t.Fatalf("greeting(\"\") = %q, want %q", got, want)
	}
	if got, want := greeting("ci"), "hello, ci (go-service test)\n"; got != want {
		t.Fatalf("greeting(\"ci\") = %q, want %q", got, want)
	}
}
