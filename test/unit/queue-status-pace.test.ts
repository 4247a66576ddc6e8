// A queued job's moving place is written at a pace that keeps a namespace's queue at about 10 status writes a second in all.
import t from 'tap';
import { QUEUE_STATUS_WRITES_PER_SECOND, queueStatusIntervalMs } from '../../controller/queue/status-pace.ts';

t.test('the interval grows with the queue, so the writes per second stay the same, up to 5 minutes', async (t) => {
  t.equal(queueStatusIntervalMs(0), 0, 'nothing queued: no pace');
  t.equal(queueStatusIntervalMs(5), 500, 'a short queue is all but current');
  t.equal(queueStatusIntervalMs(1000), 100_000, '1,000 queued: each place at most 100 s old');
  for (const n of [10, 100, 1000]) t.equal((n * 1000) / queueStatusIntervalMs(n), QUEUE_STATUS_WRITES_PER_SECOND, `${n} queued: ${QUEUE_STATUS_WRITES_PER_SECOND} writes a second in all`);
  t.equal(queueStatusIntervalMs(100_000), 300_000, 'capped');
  t.equal(queueStatusIntervalMs(-1), 0);
});
