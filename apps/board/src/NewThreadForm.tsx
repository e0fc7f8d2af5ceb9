// Starting a thread from the board: project, prompt, mode, branch or pull request, setup on or
// off. The server validates it (the same `thread.turn.start` the CLI sends) and its errors are shown.
import type { Project } from "@spindle/contracts"
import { useState } from "preact/hooks"
import { hostChoices } from "./model.ts"
import type { BoardStore } from "./store.ts"

const randomId = (prefix: string) =>
  `${prefix}-${Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => b.toString(16).padStart(2, "0")).join("")}`

export const NewThreadForm = ({
  store,
  projects,
  onDone
}: {
  store: BoardStore
  projects: ReadonlyArray<Project>
  onDone: () => void
}) => {
  const [projectId, setProjectId] = useState(projects[0]?.id ?? "")
  const [prompt, setPrompt] = useState("")
  const [title, setTitle] = useState("")
  const [mode, setMode] = useState("new_worktree")
  const [branch, setBranch] = useState("")
  const [pr, setPr] = useState("")
  const [setup, setSetup] = useState(true)
  const [busy, setBusy] = useState(false)
  const [host, setHost] = useState("")
  const hosts = hostChoices(projects.find((p) => p.id === projectId))

  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    const threadId = randomId("t")
    const command = {
      type: "thread.turn.start",
      commandId: randomId("board-start"),
      threadId,
      prompt,
      bootstrap: {
        createThread: {
          projectId,
          ...(title.trim() === "" ? {} : { title }),
          ...(host === "" || hosts.length === 0 ? {} : { host })
        },
        workspace: {
          mode,
          ...(mode === "new_worktree" && branch.trim() !== "" ? { branch: branch.trim() } : {}),
          ...(mode === "new_worktree" && pr.trim() !== "" ? { pr: Number(pr) } : {})
        },
        runSetupScript: setup
      }
    }
    const result = await store.run((client) =>
      client["orchestration.dispatchCommand"]({ command, await: "workspace" })
    )
    setBusy(false)
    if (result !== undefined) {
      onDone()
      location.hash = `#/thread/${encodeURIComponent(threadId)}`
    }
  }

  return (
    <form class="new-thread" onSubmit={submit} data-testid="new-thread-form">
      <label>
        Project
        <select
          name="project"
          value={projectId}
          onChange={(e) => setProjectId((e.currentTarget as HTMLSelectElement).value)}
        >
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.title} ({p.id})
            </option>
          ))}
        </select>
      </label>
      {hosts.length > 0 && (
        <label>
          Host
          <select
            name="host"
            data-testid="new-thread-host"
            value={host}
            onChange={(e) => setHost((e.currentTarget as HTMLSelectElement).value)}
          >
            {hosts.map((h) => (
              <option key={h.value} value={h.value}>
                {h.label}
              </option>
            ))}
          </select>
        </label>
      )}
      <label class="wide">
        Prompt
        <textarea
          name="prompt"
          rows={3}
          required
          value={prompt}
          onInput={(e) => setPrompt((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </label>
      <label>
        Title (optional)
        <input
          name="title"
          value={title}
          onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <label>
        Mode
        <select
          name="mode"
          value={mode}
          onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="new_worktree">new worktree</option>
          <option value="current_checkout">current checkout</option>
        </select>
      </label>
      <label>
        Branch (optional)
        <input
          name="branch"
          value={branch}
          disabled={mode !== "new_worktree" || pr !== ""}
          onInput={(e) => setBranch((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <label>
        or pull request #
        <input
          name="pr"
          inputMode="numeric"
          value={pr}
          disabled={mode !== "new_worktree" || branch !== ""}
          onInput={(e) => setPr((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="setup"
          checked={setup}
          onChange={(e) => setSetup((e.currentTarget as HTMLInputElement).checked)}
        />
        Run the setup script
      </label>
      <button type="submit" class="primary" disabled={busy || projectId === ""}>
        {busy ? "Starting…" : "Start thread"}
      </button>
    </form>
  )
}
