package imageimport

import (
	"context"
	"sync"

	"k8s.io/client-go/util/flowcontrol"
)

// streamVersion identifies the version of a stream an entry was scheduled for, so that a stale decision to
// unschedule it does not remove a newer entry.
type streamVersion struct {
	uid             string
	resourceVersion string
}

// scheduler visits every entry about once per round. Entries sit in buckets arranged in a ring; the current
// bucket is emptied one entry at a time (each handed to handle, then moved into the bucket that will be emptied
// last) and moving on from an empty bucket waits for the limiter. A round therefore lasts one limiter period per
// bucket (not counting the one being emptied) however many entries there are, and entries spread over the buckets
// so that the work does not come all at once.
type scheduler struct {
	limiter flowcontrol.RateLimiter
	handle  func(ctx context.Context, key string, version streamVersion)

	mu      sync.Mutex
	buckets []map[string]streamVersion
	current int
}

func newScheduler(buckets int, limiter flowcontrol.RateLimiter, handle func(ctx context.Context, key string, version streamVersion)) *scheduler {
	s := &scheduler{limiter: limiter, handle: handle, buckets: make([]map[string]streamVersion, buckets+1)}
	for i := range s.buckets {
		s.buckets[i] = map[string]streamVersion{}
	}
	return s
}

// offset is the index of the bucket delta places after the current one.
func (s *scheduler) offset(delta int) int {
	n := len(s.buckets)
	return ((s.current+delta)%n + n) % n
}

// run hands entries to handle until ctx is done.
func (s *scheduler) run(ctx context.Context) {
	for ctx.Err() == nil {
		key, version, ok := s.next()
		if !ok {
			if s.limiter.Wait(ctx) != nil {
				return
			}
			continue
		}
		s.handle(ctx, key, version)
	}
}

// next takes an entry out of the current bucket and puts it in the last one; with the current bucket empty it
// moves on to the next bucket and returns false.
func (s *scheduler) next() (string, streamVersion, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, version := range s.buckets[s.current] {
		delete(s.buckets[s.current], key)
		s.buckets[s.offset(-1)][key] = version
		return key, version, true
	}
	s.current = s.offset(1)
	return "", streamVersion{}, false
}

// add schedules key in the emptiest bucket other than the current one, the farthest from it on ties. A key
// already scheduled only gets the new version and keeps its turn. (OpenShift's scheduler moves it to a new
// bucket instead; as every import updates the stream, that stretched the period of a scheduled stream to about
// one and a half intervals.)
func (s *scheduler) add(key string, version streamVersion) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, bucket := range s.buckets {
		if _, ok := bucket[key]; ok {
			bucket[key] = version
			return
		}
	}
	target := -1
	for delta := len(s.buckets) - 1; delta > 0; delta-- {
		i := s.offset(delta)
		if target == -1 || len(s.buckets[i]) < len(s.buckets[target]) {
			target = i
		}
		if len(s.buckets[i]) == 0 {
			break
		}
	}
	s.buckets[target][key] = version
}

// remove takes key out of the scheduler.
func (s *scheduler) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, bucket := range s.buckets {
		delete(bucket, key)
	}
}

// removeVersion takes key out only where it is scheduled for that version of the stream.
func (s *scheduler) removeVersion(key string, version streamVersion) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, bucket := range s.buckets {
		if scheduled, ok := bucket[key]; ok && scheduled == version {
			delete(bucket, key)
		}
	}
}

// delay moves key, if scheduled, to the bucket that will be emptied last.
func (s *scheduler) delay(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.offset(-1)
	for i, bucket := range s.buckets {
		if version, ok := bucket[key]; ok && i != last {
			delete(bucket, key)
			s.buckets[last][key] = version
		}
	}
}

// len counts the scheduled entries.
func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, bucket := range s.buckets {
		n += len(bucket)
	}
	return n
}
