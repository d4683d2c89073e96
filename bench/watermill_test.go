package main

import "testing"

func TestWatermillCases(t *testing.T) {
	runSystemCases(t, "watermill", 2) // default config, and Publish waiting for the Ack
}

func TestWatermillSkipsWhatItCannotDo(t *testing.T) {
	checkNoCaseSupports(t, "watermill", "Durable", Params{Records: 1, Size: 100, Partitions: 1, Durable: true})
	checkNoCaseSupports(t, "watermill", "16 partitions", Params{Records: 1, Size: 100, Partitions: 16})
}
