// How often a queued job's moving place (position, reason) is written: every start ahead of it moves it, and with a
// long queue writing each move would be a status write per queued job per start, crowding out the starts themselves
// (a client's QPS is shared). Paced so a namespace's queued jobs write about WRITES_PER_SECOND in all; the job asking
// to start is never paced, and `trainingjob queue` orders the queue live.
export const QUEUE_STATUS_WRITES_PER_SECOND = 10;
const MAX_INTERVAL_MS = 5 * 60_000;

/** The least time between two writes of one queued job's place, with `queued` jobs in its namespace's queue. */
export function queueStatusIntervalMs(queued: number): number {
  return Math.min(MAX_INTERVAL_MS, (Math.max(0, queued) * 1000) / QUEUE_STATUS_WRITES_PER_SECOND);
}
