// Counts an agent session's notices so a retry storm costs a bounded number of events: the 1st,
// 2nd, 4th, 8th... saying of one notice is reported (with the repeats since the last report), up to
// MAX_REPORTS_PER_NOTICE reports; the rest are only counted. Pure state, one per session; it does
// not record anything itself.
import { type AgentNoticeReport, noticeKey } from "@spindle/contracts"

/** Reports per notice at most: with doubling, the last one comes at its 2048th saying. */
export const MAX_REPORTS_PER_NOTICE = 12
/** Distinct notices remembered; the oldest is forgotten past it. */
const MAX_KEYS = 256

export interface NoticeGate {
  /** The report to record for one more saying of `notice`, or undefined when it is only counted. */
  readonly admit: (notice: Omit<AgentNoticeReport, "count">) => AgentNoticeReport | undefined
}

const isPowerOfTwo = (n: number) => (n & (n - 1)) === 0

export const makeNoticeGate = (): NoticeGate => {
  const seen = new Map<string, { said: number; reported: number; reports: number }>()
  return {
    admit: (notice) => {
      const key = noticeKey(notice)
      const entry = seen.get(key) ?? { said: 0, reported: 0, reports: 0 }
      seen.delete(key)
      seen.set(key, entry)
      if (seen.size > MAX_KEYS) seen.delete(seen.keys().next().value as string)
      entry.said++
      if (!isPowerOfTwo(entry.said) || entry.reports >= MAX_REPORTS_PER_NOTICE) return undefined
      const count = entry.said - entry.reported
      entry.reported = entry.said
      entry.reports++
      return { ...notice, count }
    }
  }
}
