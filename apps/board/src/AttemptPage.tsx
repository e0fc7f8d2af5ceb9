// A best-of-N attempt's variants side by side: each one's agent, state, diff stat, check result and
// (on request) its diff; the files two variants both changed; and "Pick", which merges that variant
// into its base and archives the others (attempt.pick; archiving keeps unmerged work).
import type { AttemptComparison, AttemptPickResult, ThreadId } from "@spindle/contracts"
import * as HashMap from "effect/HashMap"
import { useEffect, useState } from "preact/hooks"
import { DiffView } from "./DiffView.tsx"
import { useStore } from "./hooks.ts"
import type { BoardStore } from "./store.ts"

const checkText = (check: AttemptComparison["variants"][number]["check"]) =>
  check === null
    ? "no check"
    : check === "pending"
      ? "check pending"
      : `check ${check.status}${check.exitCode === null ? "" : ` (exit ${check.exitCode})`}`

export const AttemptPage = ({ store, attemptId }: { store: BoardStore; attemptId: string }) => {
  const s = useStore(store)
  const [comparison, setComparison] = useState<AttemptComparison | undefined>()
  const [picked, setPicked] = useState<AttemptPickResult | undefined>()
  const [busy, setBusy] = useState(false)
  const [diffOf, setDiffOf] = useState<ThreadId | undefined>()
  const connected = s.connection.kind === "live"
  // Compared again when one of its variants changes (its turn, check, changes or merge), not on
  // every event of the server: each comparison reads every variant's diff from git.
  const model = s.model
  const variantsKey =
    model === undefined
      ? ""
      : Array.from(HashMap.values(model.threads))
          .filter((t) => t.attempt?.id === attemptId)
          .map((t) => `${t.id}@${t.updatedAt}`)
          .sort()
          .join(" ")
  useEffect(() => {
    if (!connected) return
    const timer = setTimeout(
      () =>
        void store
          .run((client) => client["attempt.show"]({ attemptId: attemptId as never }))
          .then((c) => c && setComparison(c)),
      200
    )
    return () => clearTimeout(timer)
  }, [store, attemptId, variantsKey, connected])

  const pick = (threadId: ThreadId) => {
    setBusy(true)
    void store
      .run((client) => client["attempt.pick"]({ attemptId: attemptId as never, threadId }))
      .then((result) => {
        setBusy(false)
        if (result !== undefined) setPicked(result)
      })
  }

  if (comparison === undefined) return <main class="loading">Loading attempt {attemptId}…</main>
  return (
    <main class="attempt-page" data-testid="attempt-page">
      <p>
        <a href="#/">← Board</a>
      </p>
      <h1>
        Attempt <code>{comparison.attemptId}</code>{" "}
        <span class="muted">
          {comparison.variants.length} variants
          {comparison.check === null ? "" : ` · check: ${comparison.check}`}
        </span>
      </h1>
      {comparison.picked === null ? null : (
        <p data-testid="attempt-picked">
          Picked: <a href={`#/thread/${encodeURIComponent(comparison.picked)}`}>{comparison.picked}</a>
        </p>
      )}
      {picked === undefined ? null : (
        <p data-testid="attempt-pick-result">
          Merged {picked.merge.source} into {picked.merge.target}
          {picked.merge.commit === null ? "" : ` (now ${picked.merge.commit.slice(0, 12)})`}; archived{" "}
          {picked.archived.map((a) => a.threadId).join(", ") || "nothing"}.
        </p>
      )}
      <div class="variants" style={{ "--variant-count": String(comparison.variants.length) }}>
        {comparison.variants.map((variant) => (
          <section
            class="variant"
            key={variant.threadId}
            data-testid="variant"
            data-thread-id={variant.threadId}
          >
            <h3>
              #{variant.index + 1}{" "}
              <a href={`#/thread/${encodeURIComponent(variant.threadId)}`}>{variant.threadId}</a>
            </h3>
            <div class="muted">
              {variant.provider}
              {variant.model === null ? "" : ` ${variant.model}`} · {variant.status} · turn{" "}
              {variant.turn ?? "not started"}
            </div>
            <div data-testid="variant-diff">
              {variant.diff === null
                ? "no diff yet"
                : `${variant.diff.filesChanged} file(s) +${variant.diff.insertions} -${variant.diff.deletions}`}
            </div>
            <div data-testid="variant-check">{checkText(variant.check)}</div>
            {variant.diff === null ? null : (
              <ul class="variant-files">
                {variant.diff.files.map((f) => (
                  <li key={f.path} class="mono">
                    {f.path}
                  </li>
                ))}
              </ul>
            )}
            <div class="buttons">
              <button
                type="button"
                class="small"
                onClick={() => setDiffOf(diffOf === variant.threadId ? undefined : variant.threadId)}
              >
                {diffOf === variant.threadId ? "Hide diff" : "Diff"}
              </button>
              <button
                type="button"
                class="primary"
                data-testid="variant-pick"
                disabled={busy || comparison.picked !== null || variant.merged}
                onClick={() => pick(variant.threadId)}
              >
                {variant.merged ? "Merged" : "Pick"}
              </button>
            </div>
          </section>
        ))}
      </div>
      {comparison.overlaps.length === 0 ? null : (
        <section>
          <h3>Files more than one variant changed</h3>
          <ul>
            {comparison.overlaps.map((o) => (
              <li key={o.threads.join("/")}>
                {o.threads.join(" and ")}: <span class="mono">{o.files.join(", ")}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {diffOf === undefined ? null : <DiffView key={diffOf} store={store} threadId={diffOf} />}
    </main>
  )
}
