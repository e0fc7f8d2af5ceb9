// Which store the tests' servers and engines use. Under the `server-postgres` test project
// (SPINDLE_TEST_POSTGRES names the throwaway cluster's admin URL, see postgresCluster.ts) every
// SQLite file a test would open maps to a Postgres database of its own, created on first use, so
// the same test runs against both stores; reopening the same file reopens the same database.
// Otherwise the SQLite file, as in production. Not shipped.
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { DatabaseSync } from "node:sqlite"
import * as Redacted from "effect/Redacted"
import { type Store, sqliteStore } from "../config/Store.ts"

/** The admin URL of the test cluster, when the tests run against Postgres. */
export const testPostgres = (): string | undefined => process.env.SPINDLE_TEST_POSTGRES || undefined

const created = new Set<string>()

/** Creates the database unless this process or another already did. */
const ensureDatabase = (admin: URL, name: string) => {
  if (created.has(name)) return
  try {
    execFileSync("psql", [admin.toString(), "-v", "ON_ERROR_STOP=1", "-qc", `CREATE DATABASE ${name}`], {
      stdio: ["ignore", "ignore", "pipe"]
    })
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? error)
    if (!/already exists/.test(stderr))
      throw new Error(`creating the test database ${name} failed: ${stderr}`)
  }
  created.add(name)
}

/** The Postgres URL standing for a SQLite file name (its own database, created if need be). */
export const postgresFor = (admin: string, filename: string) => {
  const name = `t_${createHash("sha256").update(filename).digest("hex").slice(0, 24)}`
  const url = new URL(admin)
  ensureDatabase(url, name)
  url.pathname = `/${name}`
  return url.toString()
}

/** The store for what would be the SQLite file `filename`. */
export const testStore = (filename: string): Store => {
  const admin = testPostgres()
  return admin === undefined
    ? sqliteStore(filename)
    : { kind: "postgres", url: Redacted.make(postgresFor(admin, filename)) }
}

/** Rows of a read-only query against a SQLite file. */
export const readSqlite = (filename: string, query: string): Array<Record<string, unknown>> => {
  const db = new DatabaseSync(filename, { readOnly: true })
  try {
    return db.prepare(query).all() as Array<Record<string, unknown>>
  } finally {
    db.close()
  }
}

/**
 * Rows of a read-only query against the store standing for `filename`, as plain objects (numbers
 * as numbers), whichever store it is: what a test checks behind the server's back.
 */
export const readTestStore = (filename: string, query: string): Array<Record<string, unknown>> => {
  const admin = testPostgres()
  if (admin === undefined) return readSqlite(filename, query)
  const out = execFileSync(
    "psql",
    [
      postgresFor(admin, filename),
      "-v",
      "ON_ERROR_STOP=1",
      "-Atqc",
      `SELECT COALESCE(json_agg(q), '[]') FROM (${query}) q`
    ],
    { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 }
  )
  return JSON.parse(out.toString()) as Array<Record<string, unknown>>
}
