package imageimport

import (
	"context"
	"testing"

	"k8s.io/client-go/util/flowcontrol"
)

// drain runs next until it has stepped over steps empty buckets, returning the keys handed out in order.
func drain(s *scheduler, steps int) []string {
	var keys []string
	for steps > 0 {
		key, _, ok := s.next()
		if !ok {
			steps--
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

func TestSchedulerVisitsEachEntryOncePerRound(t *testing.T) {
	s := newScheduler(2, flowcontrol.NewFakeAlwaysRateLimiter(), nil)
	s.add("a", streamVersion{})
	s.add("b", streamVersion{})
	s.add("c", streamVersion{})
	if s.len() != 3 {
		t.Fatalf("%d entries", s.len())
	}
	// with 2 buckets (plus the current one) an entry comes round every 2 moves to the next bucket, i.e. every
	// 2 limiter periods: the limiter allows buckets moves per interval, so once per interval
	seen := map[string]int{}
	for _, key := range drain(s, 20) {
		seen[key]++
	}
	for _, key := range []string{"a", "b", "c"} {
		if seen[key] < 9 || seen[key] > 11 {
			t.Errorf("%s seen %d times in 20 moves, want about 10 (%v)", key, seen[key], seen)
		}
	}
}

func TestSchedulerAddSpreadsEntries(t *testing.T) {
	s := newScheduler(4, flowcontrol.NewFakeAlwaysRateLimiter(), nil)
	for _, key := range []string{"a", "b", "c", "d", "e"} {
		s.add(key, streamVersion{})
	}
	if len(s.buckets[s.current]) != 0 {
		t.Error("an entry went into the current bucket")
	}
	for i, bucket := range s.buckets {
		if i != s.current && (len(bucket) == 0 || len(bucket) > 2) {
			t.Errorf("bucket %d holds %d entries", i, len(bucket))
		}
	}
	// the first entry goes farthest from the current bucket
	if _, ok := s.buckets[s.offset(-1)]["a"]; !ok {
		t.Error("first entry not in the last bucket")
	}
	s.add("a", streamVersion{resourceVersion: "2"}) // re-adding updates the version, the turn stays
	if s.len() != 5 || s.buckets[s.offset(-1)]["a"].resourceVersion != "2" {
		t.Errorf("%d entries after re-adding, last bucket %v", s.len(), s.buckets[s.offset(-1)])
	}
}

func TestSchedulerRemoveAndDelay(t *testing.T) {
	s := newScheduler(2, flowcontrol.NewFakeAlwaysRateLimiter(), nil)
	old := streamVersion{uid: "u", resourceVersion: "1"}
	s.add("a", old)
	s.add("a", streamVersion{uid: "u", resourceVersion: "2"})
	s.removeVersion("a", old) // stale: the newer entry stays
	if s.len() != 1 {
		t.Error("stale removal removed the newer entry")
	}
	s.remove("a")
	if s.len() != 0 {
		t.Error("not removed")
	}

	s.add("b", streamVersion{})
	s.add("c", streamVersion{})
	// c sits in the bucket after the current one; delaying moves it to the last bucket
	s.delay("c")
	if _, ok := s.buckets[s.offset(-1)]["c"]; !ok {
		t.Error("delayed entry not in the last bucket")
	}
}

func TestSchedulerRunStopsWithContext(t *testing.T) {
	handled := make(chan string, 10)
	s := newScheduler(2, flowcontrol.NewTokenBucketRateLimiter(1000, 1), func(_ context.Context, key string, _ streamVersion) {
		handled <- key
	})
	s.add("a", streamVersion{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.run(ctx); close(done) }()
	if key := <-handled; key != "a" {
		t.Errorf("handled %q", key)
	}
	cancel()
	<-done
}
