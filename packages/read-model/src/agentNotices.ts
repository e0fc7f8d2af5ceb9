// A thread's agent notices as the projector keeps them: a repeat of a notice already listed updates
// it (count, latest wording, time) and moves it last; a new one is appended; only the latest
// MAX_AGENT_NOTICES stay. Pure.
import { type AgentNotice, type AgentNoticeReport, MAX_AGENT_NOTICES, noticeKey } from "@spindle/contracts"

export const addNotice = (
  notices: ReadonlyArray<AgentNotice>,
  report: AgentNoticeReport,
  at: string
): Array<AgentNotice> => {
  const key = noticeKey(report)
  const earlier = notices.find((n) => noticeKey(n) === key)
  const { count, ...said } = report
  const notice: AgentNotice = {
    ...said,
    count: (earlier?.count ?? 0) + count,
    firstAt: earlier?.firstAt ?? at,
    lastAt: at
  }
  return [...notices.filter((n) => n !== earlier), notice].slice(-MAX_AGENT_NOTICES)
}
