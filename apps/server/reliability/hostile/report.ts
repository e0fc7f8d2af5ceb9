// Turns hostile case outcomes into the scenario's checks and per-class table, the same way for
// both transports.
import type { Report } from "../harness/scenario.ts"
import type { CaseOutcome } from "./runWs.ts"

export const reportCases = (report: Report, outcomes: ReadonlyArray<CaseOutcome>) => {
  const classes = [...new Set(outcomes.map((o) => o.cls))]
  const rows = classes.map((cls) => {
    const of = outcomes.filter((o) => o.cls === cls)
    const failed = of.filter((o) => !o.verdict.ok)
    report.check(
      `${cls}: each refused with a clear reason`,
      failed.map((o) => `${o.name} -> ${o.verdict.got}`)
    )
    const answers = [...new Set(of.map((o) => o.verdict.got.split(":")[0]!))].slice(0, 4).join(", ")
    return [cls, of.length, of.length - failed.length, answers]
  })
  report.figure("hostile inputs sent", outcomes.length)
  report.figure("refused as promised", outcomes.filter((o) => o.verdict.ok).length)
  report.table({ title: "By class", columns: ["class", "cases", "as promised", "answers seen"], rows })
}
