package fanout

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/collabedit/collab/redistest"
)

// BenchmarkRedisClusterReceive: events of ~200 bytes published in
// pipelined batches of 100 on 10 sharded channels (one master may carry
// several), received by one bus and handed to its subscribers; b.N is
// the number of messages received. What it measures is the receiving
// side: the sharded connection's reader and the routing to queues.
func BenchmarkRedisClusterReceive(b *testing.B) {
	cluster := redistest.SharedCluster(b)
	sub := newRedisBus(b, newClusterClient(b, cluster))
	pub := newRedisBus(b, newClusterClient(b, cluster))
	const nchan = 10
	chans := make([]string, nchan)
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want int64
	for i := range chans {
		chans[i] = fmt.Sprintf("collab:doc:{bench-%d}", i)
		ready := make(chan struct{}, 1)
		cancel, err := sub.Subscribe(chans[i], func(m []byte) {
			if m == nil {
				select {
				case ready <- struct{}{}:
				default:
				}
				return
			}
			if got.Add(1) == atomic.LoadInt64(&want) {
				done <- struct{}{}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cancel)
		<-ready
	}
	msg := make([]byte, 200)
	batchCh := make([]string, 100)
	batchMsg := make([][]byte, 100)
	for i := range batchCh {
		batchCh[i] = chans[i%nchan]
		batchMsg[i] = msg
	}
	atomic.StoreInt64(&want, int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += len(batchCh) {
		n := min(len(batchCh), b.N-sent)
		if err := pub.PublishBatch(context.Background(), batchCh[:n], batchMsg[:n]); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
