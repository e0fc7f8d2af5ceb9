// A parent's suggested merge order for its live children, asked on demand (`thread.children`: it
// runs trial merges, so not on every event): each child with its changes and why it stands where
// it does (overlaps no sibling, conflicts with another...), as `spindle thread children` says it.
import type { Thread, ThreadChildrenRadar } from "@spindle/contracts"
import { useState } from "preact/hooks"
import type { BoardStore } from "./store.ts"

export const MergeOrder = ({ store, thread }: { store: BoardStore; thread: Thread }) => {
  const [radar, setRadar] = useState<ThreadChildrenRadar | undefined>()
  const [busy, setBusy] = useState(false)
  const load = () => {
    setBusy(true)
    void store
      .run((client) => client["thread.children"]({ threadId: thread.id }))
      .then((answer) => {
        setBusy(false)
        if (answer !== undefined) setRadar(answer)
      })
  }
  const childOf = (id: string) => radar?.children.find((c) => c.thread.id === id)
  return (
    <div class="merge-order" data-testid="merge-order-panel">
      <button type="button" class="small" data-testid="load-merge-order" disabled={busy} onClick={load}>
        {radar === undefined ? "Suggest a merge order" : "Suggest again"}
      </button>
      {radar === undefined ? null : radar.mergeOrder.length === 0 ? (
        <p class="muted">No live child with changes to merge.</p>
      ) : (
        <ol data-testid="merge-order">
          {radar.mergeOrder.map((entry) => {
            const child = childOf(entry.threadId)
            const diff = child?.diff
            return (
              <li key={entry.threadId} data-testid="merge-order-entry" data-thread-id={entry.threadId}>
                <a href={`#/thread/${encodeURIComponent(entry.threadId)}`}>
                  {child?.thread.title ?? entry.threadId}
                </a>
                : {entry.note}
                {diff === null || diff === undefined ? null : (
                  <span class="muted">
                    {" "}
                    ({diff.filesChanged} file{diff.filesChanged === 1 ? "" : "s"} +{diff.insertions} -
                    {diff.deletions}, {diff.commitsAhead} commit{diff.commitsAhead === 1 ? "" : "s"} ahead)
                  </span>
                )}
              </li>
            )
          })}
        </ol>
      )}
    </div>
  )
}
