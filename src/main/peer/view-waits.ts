/**
 * What a routing-table view starts for whoever looks (clock readings, identify on this peer's own dials) and waits
 * for a moment, so that an API call gets it in its answer; what comes later reaches the UI as events or with the
 * next view. For a while after a view, new connections get that work as they open.
 */

/**
 * How long after the routing table was last viewed new connections still have their clocks read and are identified
 * from both ends as they open. What that brings is only shown there, and it costs every new connection CPU: a clock
 * reading from each end (1.2-2.2 ms, both sides together), and identify on this peer's own dials to its table's peers
 * (about 6 ms; README, "What each change bought"). A headless peer nobody looks at spends neither.
 */
export const WATCHED_FOR_MS = 5 * 60_000

/** How long a view waits for the work it needs (started by it or under way). */
export const VIEW_WAITS_MS = 500

/** Waits until every one of `waits` has settled, or `ms` has passed, whichever comes first. */
export async function waitAtMost(waits: Promise<unknown>[], ms: number): Promise<void> {
  if (waits.length === 0) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.allSettled(waits),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
  ]).finally(() => clearTimeout(timer))
}
