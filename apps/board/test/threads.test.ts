// The board follows threads live, in a real Chromium against the real server with the command
// provider running a real agent process: a thread started from the CLI shows up at once and its
// card moves from setting up to working to idle; a failing setup shows its log and exit code and
// the page's rerun button fixes it; a server restart is survived with no reload and no card lost.
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  cardColumn,
  cleanup,
  gitRepo,
  launchBrowser,
  type Server,
  screenshotPath,
  signedInPage,
  spindle,
  spindleInBackground,
  startServer,
  tempDir,
  waitForCard
} from "./harness.ts"

const script = (path: string, body: string) => {
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

describe("board threads", () => {
  let server: Server
  let home: string
  let gate: string
  beforeAll(async () => {
    home = tempDir("board-home-")
    gate = tempDir("board-gate-")
    server = await startServer(home, { args: ["--providers", "on"] })
    const setup = script(
      join(gate, "setup.sh"),
      `echo "setting up in $PWD"; n=0; while [ ! -f ${gate}/setup-go ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done; echo "setup done"`
    )
    const agent = script(
      join(gate, "agent.sh"),
      `echo "working on: $1"; n=0; while [ ! -f ${gate}/agent-go ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done; echo "all done"`
    )
    const failing = script(
      join(gate, "failing.sh"),
      `echo "preparing"; echo "oops: dependency missing" >&2; [ -f ${gate}/fixed ] || exit 3; echo "fixed now"`
    )
    for (const [id, setupScript] of [
      ["p1", setup],
      ["p2", failing]
    ] as const) {
      const added = await spindle(home, [
        "project",
        "add",
        await gitRepo(),
        "--id",
        id,
        "--setup-script",
        setupScript,
        "--default-provider",
        "command",
        "--agent-command",
        `${agent} {prompt}`
      ])
      assert.strictEqual(added.code, 0, added.stderr)
    }
  })
  afterAll(cleanup)

  it("a thread started from the CLI is on the board within a second and moves to Working (setting up, then running) and to Done", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    // When the card first appears, by the browser's clock (the same machine's as the server's).
    await page.evaluate(() => {
      new MutationObserver((_, observer) => {
        if (document.querySelector('[data-testid="card"][data-thread-id="t1"]') !== null) {
          ;(globalThis as any).t1SeenAt = Date.now()
          observer.disconnect()
        }
      }).observe(document.body, { childList: true, subtree: true })
    })
    spindleInBackground(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "fix it",
      "--thread-id",
      "t1"
    ])
    await waitForCard(page, "t1", "working", 10_000)
    const createdAt = await page.evaluate(() =>
      (globalThis as any).spindleBoard
        .run((c: any) => c["thread.events"]({ threadId: "t1", limit: 1000 }))
        .then((events: Array<any>) => events.find((e) => e.type === "thread.created").occurredAt as string)
    )
    const lag = (await page.evaluate(() => (globalThis as any).t1SeenAt as number)) - Date.parse(createdAt)
    assert.isBelow(lag, 1_000, `the card appeared ${lag} ms after the thread was created`)
    const card = page.locator('[data-testid="card"][data-thread-id="t1"]')
    await card.filter({ hasText: "setup running" }).waitFor({ timeout: 10_000 })

    writeFileSync(join(gate, "setup-go"), "")
    await waitForCard(page, "t1", "working")
    writeFileSync(join(gate, "agent-go"), "")
    await waitForCard(page, "t1", "done")
    assert.include(await card.textContent(), "turn completed")
    assert.notInclude(await card.textContent(), "setup", "a setup that succeeded is no longer news")

    await page.screenshot({ path: screenshotPath("board.png") })

    // Its page: the timeline says who did what, the agent's output and the setup log are there.
    await card.click()
    await page.getByTestId("thread-page").waitFor()
    // The timeline is the page's second tab; the conversation is its first.
    await page.getByTestId("prompt").getByText("fix it").waitFor()
    await page.getByTestId("tab-timeline").click()
    const timeline = page.getByTestId("timeline")
    await timeline.getByText("turn completed").waitFor()
    // Who did it, in words: the person's client is "you", never a token id.
    const actors = await page.evaluate(() =>
      Array.from(document.querySelectorAll('[data-testid="timeline"] td.actor'), (td) => td.textContent)
    )
    assert.include(actors, "you")
    assert.include(actors, "agent of fix it", "the agent named by its thread's title")
    assert.isFalse(
      actors.some((a) => a?.includes("tok_")),
      actors.join(", ")
    )
    await page.getByTestId("tab-conversation").click()
    await page.getByTestId("conversation").getByText("all done").waitFor()
    assert.include(await page.getByTestId("setup-log").textContent(), "setup done")
    assert.match((await page.getByTestId("worktree-path").textContent()) ?? "", /worktrees\/p1\//)
    // The thread names the host that runs it (the server's id, kept in its home).
    assert.strictEqual(
      await page.getByTestId("thread-host").textContent(),
      readFileSync(join(home, "host-id"), "utf8").trim()
    )
    await page.getByTestId("load-diff").click()
    await page.getByTestId("diff").waitFor()
    await page.screenshot({ path: screenshotPath("thread.png"), fullPage: true })

    // A follow-up turn from the page runs and completes.
    await page.getByTestId("follow-up").fill("and the docs")
    await page.getByRole("button", { name: "Send" }).click()
    await timeline
      .getByText("working on: and the docs")
      .or(page.getByText("working on: and the docs"))
      .first()
      .waitFor()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="turn-status"]')?.textContent === "completed"
    )

    // A turn still running is stopped by the page's Interrupt button.
    rmSync(join(gate, "agent-go"))
    await page.getByTestId("follow-up").fill("a long one")
    await page.getByRole("button", { name: "Send" }).click()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="turn-status"]')?.textContent === "running"
    )
    await page.getByRole("button", { name: "Interrupt" }).click()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="turn-status"]')?.textContent === "interrupted",
      undefined,
      { timeout: 15_000 }
    )
    const shown = await spindle(home, ["thread", "show", "t1", "--json"])
    assert.strictEqual(JSON.parse(shown.stdout).latestTurn.status, "interrupted")
    writeFileSync(join(gate, "agent-go"), "")
  })

  it("a failing setup shows its log tail and exit code, and the page's rerun button reruns it", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    spindleInBackground(home, [
      "thread",
      "start",
      "--project",
      "p2",
      "--prompt",
      "build",
      "--thread-id",
      "t2"
    ])
    await waitForCard(page, "t2", "needs-you")
    const card = page.locator('[data-testid="card"][data-thread-id="t2"]')
    assert.include(await card.textContent(), "exit 3")
    await card.click()
    await page.getByTestId("setup-log").getByText("oops: dependency missing").waitFor()
    assert.include(await page.getByTestId("setup-exit").textContent(), "exit code 3")
    assert.include(await page.getByTestId("failure").textContent(), "setup failed with exit code 3")

    writeFileSync(join(gate, "fixed"), "")
    await page.getByTestId("rerun-setup").click()
    await page.getByTestId("setup-log").getByText("fixed now").waitFor({ timeout: 15_000 })
    await page.waitForFunction(
      () => document.querySelector('[data-testid="setup-status"]')?.textContent === "succeeded"
    )
  })

  it("an error the server sends is shown with its message", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await page.goto(`${server.url}/#/thread/t1`)
    await page.getByTestId("thread-page").waitFor()
    // No turn runs: the server refuses the interrupt with `conflict`, and the page says why.
    await page.evaluate(() =>
      (globalThis as any).spindleBoard.run((c: any) =>
        c["orchestration.dispatchCommand"]({
          command: { type: "thread.turn.interrupt", commandId: "x-1", threadId: "t1" }
        })
      )
    )
    const notice = page.getByTestId("notice")
    await notice.first().waitFor()
    assert.include(await notice.first().textContent(), "conflict:")
  })

  it("survives a server restart: reconnects by itself, resumes from its sequence, loses no card", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await waitForCard(page, "t1", "done")
    await page.evaluate(() => {
      ;(globalThis as any).notReloaded = true
    })
    const before = await page.evaluate(() => (globalThis as any).spindleBoard.model.sequence as number)
    await server.stop()
    await page.getByTestId("connection").and(page.locator('[data-state="reconnecting"]')).waitFor()
    server = await startServer(home, { port: server.port, args: ["--providers", "on"] })
    spindleInBackground(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "after restart",
      "--thread-id",
      "t3"
    ])
    await waitForCard(page, "t3", "done", 30_000)
    assert.isTrue(await page.evaluate(() => (globalThis as any).notReloaded === true))
    assert.strictEqual(await cardColumn(page, "t1"), "done")
    assert.strictEqual(await cardColumn(page, "t2"), "done")
    // Every event exactly once: the board's sequence is the server's, and it folded each one in order.
    const status = await page.evaluate(() =>
      (globalThis as any).spindleBoard.run((c: any) => c["server.getStatus"]())
    )
    // (Events may still be on their way, e.g. the radar's count of t3's changes: wait until the
    // board and the server agree.)
    assert.isAtLeast(status.sequence, before)
    // The board's sequence once it equals the server's (asked right after), t3's count included;
    // asked again every 250 ms for at most 10 s.
    const agreedSequence = () =>
      page.evaluate(async () => {
        const board = (globalThis as any).spindleBoard
        let counted = false
        for (const [id, thread] of board.model.threads) if (id === "t3") counted = thread.changes !== null
        if (!counted) return undefined
        const seen = board.model.sequence as number
        const now = await board.run((c: any) => c["server.getStatus"]())
        return seen === now.sequence ? seen : undefined
      })
    let after: number | undefined
    for (let i = 0; i < 40 && after === undefined; i++) {
      after = await agreedSequence()
      if (after === undefined) await new Promise((resolve) => setTimeout(resolve, 250))
    }
    assert.isDefined(after, "the board and the server agree on the sequence")
    assert.isAbove(after!, before)
    const count = await page.getByTestId("board").getAttribute("data-thread-count")
    assert.strictEqual(count, "3")
  })
})
