// The store's hosts, through the real server and CLI: a server registers itself with its name,
// URL and limit and heartbeats; `spindle hosts` lists it with its threads and load. On Postgres,
// a second host is refused while another is online on the store, a host killed with -9 shows
// offline once its heartbeat is older than HOST_OFFLINE_MS, and a clean stop shows stopped.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { HOST_OFFLINE_MS, type Host } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { gitRepo, tempHome } from "../testing/fixtures.ts"
import { runSpindle, startServer } from "../testing/serverProcess.ts"
import { postgresFor, readTestStore, testPostgres } from "../testing/testStore.ts"

const hosts = (url: string, token: string) =>
  Effect.map(runSpindle(["hosts", "--json", "--url", url, "--token", token], {}), (out) => {
    assert.strictEqual(out.code, 0, out.stderr)
    return JSON.parse(out.stdout) as Array<Host>
  })

const ownerToken = (home: string) => readFileSync(join(home, "owner-token"), "utf8").trim()

describe("spindle hosts", () => {
  it.effect("a server lists itself: name, URL, limit, online, its threads and turn slots", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const repo = yield* gitRepo
      const server = yield* startServer(home, ["--host-name", "build-1"])
      const env = { SPINDLE_HOME: home }
      assert.strictEqual((yield* runSpindle(["project", "add", repo, "--id", "demo"], env)).code, 0)
      const started = yield* runSpindle(
        ["thread", "start", "--project", "demo", "--prompt", "go", "--thread-id", "t1"],
        env
      )
      assert.strictEqual(started.code, 0, started.stderr)
      const token = ownerToken(home)
      const [self, ...others] = yield* hosts(server.url, token)
      assert.lengthOf(others, 0)
      assert.strictEqual(self?.name, "build-1")
      assert.strictEqual(self?.url, server.url)
      assert.strictEqual(self?.state, "online")
      // With providers off no turn ever runs, so nothing is held back: no limit.
      assert.strictEqual(self?.maxRunningTurns, null)
      assert.strictEqual(self?.threads, 1)
      assert.isTrue(self?.self)
      assert.match(self?.id ?? "", /^host_[0-9a-f]{12}$/)
      // The thread names its host.
      const shown = yield* runSpindle(["thread", "show", "t1", "--json"], env)
      assert.strictEqual((JSON.parse(shown.stdout) as { host: string }).host, self?.id)
      const table = yield* runSpindle(["hosts"], env)
      assert.include(table.stdout, "build-1")
      assert.include(table.stdout, `${self?.id} *`)
    })
  )

  it.live.runIf(testPostgres() !== undefined)(
    "on one Postgres store: a second live host is refused; a killed one goes offline, a stopped one stopped",
    () =>
      Effect.gen(function* () {
        const admin = testPostgres() ?? ""
        const homeA = yield* tempHome
        const homeB = yield* tempHome
        const store = postgresFor(admin, join(homeA, "shared-store"))
        const a = yield* startServer(homeA, ["--store", store, "--host-name", "alpha"])
        const repo = yield* gitRepo
        const envA = { SPINDLE_HOME: homeA }
        assert.strictEqual((yield* runSpindle(["project", "add", repo, "--id", "demo"], envA)).code, 0)
        const started = yield* runSpindle(
          ["thread", "start", "--project", "demo", "--prompt", "go", "--thread-id", "t1"],
          envA
        )
        assert.strictEqual(started.code, 0, started.stderr)
        const eventsOfT1 = () =>
          readTestStore(
            join(homeA, "shared-store"),
            "SELECT COUNT(*) AS n FROM events WHERE aggregate_id = 't1'"
          )[0]?.n
        const refused = yield* runSpindle(
          ["serve", "--port", "0", "--home", homeB, "--store", store],
          {},
          "30 seconds"
        )
        assert.notStrictEqual(refused.code, 0)
        assert.include(refused.stderr, "Another Spindle host is online on this store: alpha")
        // A dies without a word; once its heartbeat is older than HOST_OFFLINE_MS, B may start.

        a.terminate("SIGKILL")
        yield* Effect.promise(() => a.exited)
        // A can write nothing more: whatever happens to t1 from here is B's doing.
        const before = eventsOfT1()
        yield* Effect.sleep(`${HOST_OFFLINE_MS + 2_500} millis`)
        const b = yield* startServer(homeB, ["--store", store, "--host-name", "beta"])
        const tokenB = ownerToken(homeB)
        const listed = yield* hosts(b.url, tokenB)
        assert.deepStrictEqual(
          listed.map((h) => [h.name, h.state, h.self]),
          [
            ["beta", "online", true],
            ["alpha", "offline", false]
          ]
        )
        // A's thread shows its host is gone, refuses commands naming it, and B left it as it was.
        const envB = { SPINDLE_HOME: homeB }
        const listed2 = yield* runSpindle(["thread", "list", "--state", "host-offline"], envB)
        assert.include(listed2.stdout, "t1")
        assert.include(listed2.stdout, "host-offline")
        const send = yield* runSpindle(["thread", "send", "t1", "--prompt", "more", "--json"], envB)
        assert.strictEqual(send.code, 1)
        const refusal = (JSON.parse(send.stdout) as { error: { reason: string; message: string } }).error
        assert.strictEqual(refusal.reason, "unavailable")
        assert.include(refusal.message, "runs on host alpha")
        assert.include(refusal.message, "which is offline")
        assert.strictEqual(eventsOfT1(), before)
        // A clean stop says so.
        b.terminate("SIGTERM")
        assert.strictEqual(yield* Effect.promise(() => b.exited), 0)
        const a2 = yield* startServer(homeA, ["--store", store, "--host-name", "alpha"])
        const again = yield* hosts(a2.url, ownerToken(homeA))
        assert.deepStrictEqual(
          again.map((h) => [h.name, h.state]),
          [
            ["alpha", "online"],
            ["beta", "stopped"]
          ]
        )
      }),
    90_000
  )

  it.live.runIf(testPostgres() !== undefined)(
    "a host stopped past its lease (SIGSTOP) stops itself when it resumes, beside the host that took over",
    () =>
      Effect.gen(function* () {
        const admin = testPostgres() ?? ""
        const homeA = yield* tempHome
        const homeB = yield* tempHome
        const store = postgresFor(admin, join(homeA, "partition-store"))
        const a = yield* startServer(homeA, ["--store", store, "--host-name", "alpha"])
        a.terminate("SIGSTOP")
        yield* Effect.sleep(`${HOST_OFFLINE_MS + 2_500} millis`)
        const b = yield* startServer(homeB, ["--store", store, "--host-name", "beta"])
        a.terminate("SIGCONT")
        const ended = yield* Effect.promise(() => a.exited).pipe(Effect.timeout("20 seconds"))
        assert.notStrictEqual(ended, 0)
        assert.include(a.output(), "lease on the store lapsed")
        const listed = yield* hosts(b.url, ownerToken(homeB))
        assert.deepStrictEqual(
          listed.map((h) => [h.name, h.state]),
          [
            ["beta", "online"],
            ["alpha", "stopped"]
          ]
        )
      }),
    90_000
  )
})
