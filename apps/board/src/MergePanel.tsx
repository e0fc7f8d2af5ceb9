// A thread page's merge panel: preview (a dry run) or merge the thread's branch back into its
// parent's branch, else the branch it started from, with a strategy to choose; what would change,
// or the conflicting files with their line ranges; and the thread's latest merge. A refusal (a
// running turn, uncommitted work, a conflict) shows as the board's notice, with what to do.
import type { MergeStrategy, Thread, ThreadMergeResult } from "@spindle/contracts"
import { useState } from "preact/hooks"
import type { BoardStore } from "./store.ts"

const STRATEGIES: ReadonlyArray<readonly [MergeStrategy | "", string]> = [
  ["", "default (fast-forward when possible)"],
  ["ff-only", "fast-forward only"],
  ["merge", "merge commit"],
  ["squash", "squash into one commit"],
  ["rebase", "rebase (replay its commits)"]
]

const Outcome = ({ result }: { result: ThreadMergeResult }) => {
  const into = `${result.source} into ${result.target} (${result.strategy})`
  if (result.upToDate) return <p data-testid="merge-outcome">{result.target} already has all of its work.</p>
  if (result.conflicts.length > 0) {
    return (
      <div data-testid="merge-outcome">
        <p class="bad">Merging {into} would conflict in:</p>
        <ul>
          {result.conflicts.map((c) => (
            <li key={c.path}>
              <code>{c.path}</code> lines {c.hunks.map((h) => `${h.startLine}-${h.endLine}`).join(", ")}
            </li>
          ))}
        </ul>
      </div>
    )
  }
  return (
    <div data-testid="merge-outcome">
      <p>
        {result.dryRun
          ? `Merging ${into} would apply cleanly (nothing written yet):`
          : `Merged ${into}: ${result.target} is now ${result.commit?.slice(0, 12)}.`}
      </p>
      <ul>
        {result.files.map((f) => (
          <li key={f.path}>
            <code>{f.path}</code>{" "}
            <span class="muted">{f.added === null ? "binary" : `+${f.added} -${f.removed}`}</span>
          </li>
        ))}
      </ul>
    </div>
  )
}

export const MergePanel = ({ store, thread }: { store: BoardStore; thread: Thread }) => {
  const [strategy, setStrategy] = useState<MergeStrategy | "">("")
  const [archive, setArchive] = useState(false)
  const [result, setResult] = useState<ThreadMergeResult | undefined>()
  const [busy, setBusy] = useState(false)
  if (thread.workspace.branch === null) return null
  const merge = (dryRun: boolean) => {
    setBusy(true)
    void store
      .run((client) =>
        client["thread.merge"]({
          threadId: thread.id,
          ...(strategy === "" ? {} : { strategy }),
          ...(dryRun ? { dryRun } : {}),
          ...(archive && !dryRun ? { archive } : {})
        })
      )
      .then((merged) => {
        setBusy(false)
        if (merged !== undefined) setResult(merged)
      })
  }
  const last = thread.merged
  return (
    <section class="merge" data-testid="merge-panel">
      <h3>Merge</h3>
      {last === null ? null : (
        <p data-testid="last-merge">
          Merged into <code>{last.target}</code> ({last.strategy}) {new Date(last.at).toLocaleString()}:{" "}
          {last.files} file(s) +{last.added} -{last.removed}, now <code>{last.commit.slice(0, 12)}</code>
        </p>
      )}
      <div class="buttons">
        <label>
          Strategy{" "}
          <select
            data-testid="merge-strategy"
            value={strategy}
            onChange={(e) => setStrategy((e.currentTarget as HTMLSelectElement).value as MergeStrategy | "")}
          >
            {STRATEGIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={archive}
            onChange={(e) => setArchive((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          archive after
        </label>
        <button type="button" data-testid="merge-preview" disabled={busy} onClick={() => merge(true)}>
          Preview
        </button>
        <button
          type="button"
          class="primary"
          data-testid="merge"
          disabled={busy || thread.latestTurn?.status === "running"}
          onClick={() => merge(false)}
        >
          Merge
        </button>
      </div>
      {result === undefined ? null : <Outcome result={result} />}
    </section>
  )
}
