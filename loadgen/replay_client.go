package loadgen

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// replayClient replays one copy with the Go client: every patch is a
// local edit (Submit), and the client sends them as an editor would, one
// op in flight and the rest composed, so at full speed the server sees
// far fewer, larger ops than there are patches.
func (r *run) replayClient(ctx context.Context, i int, lt *loadedTrace, doc string) copyResult {
	dl, err := r.dialers(0)
	if err != nil {
		return copyResult{problem: err.Error()}
	}
	var acked atomic.Uint64
	snd := newSender(r.rec, doc, i)
	snd.count = &acked
	gd, lat, err := r.openGoDoc(ctx, i, "p", doc, dl, hooks{snd: snd})
	if err != nil {
		r.rec.connectFailed(describeFailure(err))
		return copyResult{problem: fmt.Sprintf("connect: %v", err)}
	}
	r.rec.connected(i, lat)
	defer func() {
		_ = gd.c.Close()
		r.rec.disconnected()
	}()
	ops := lt.allOps()
	lead := len(ops) - len(lt.ops) // the start-content op is not paced
	start := time.Now()
	for k, op := range ops {
		if !lt.pace.wait(ctx, max(k-lead, 0), start) {
			return copyResult{elapsed: time.Since(start), acked: acked.Load(), problem: "stopped before the end"}
		}
		if err := gd.d.Submit(op); err != nil {
			return copyResult{elapsed: time.Since(start), acked: acked.Load(), problem: fmt.Sprintf("patch %d: %v", k-lead, err)}
		}
		r.rec.edits.Add(1)
	}
	if err := gd.d.WaitSynced(ctx); err != nil {
		r.rec.unacked.Add(1)
		return copyResult{elapsed: time.Since(start), acked: acked.Load(), problem: fmt.Sprintf("wait synced: %v", err)}
	}
	res := copyResult{elapsed: time.Since(start), acked: acked.Load()}
	if got := gd.d.Text(); got != lt.end {
		res.problem = fmt.Sprintf("client text is %d bytes, trace end %d", len(got), len(lt.end))
		return res
	}
	res.problem = r.verify(context.WithoutCancel(ctx), i, doc, lt)
	return res
}
