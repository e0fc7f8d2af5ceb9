// Where Spindle's state lives: the embedded SQLite file in <home> (the default), or a Postgres
// database that several hosts share (`--store postgres://...`). Choosing and naming only; opening
// and migrating are Database's.
import * as Redacted from "effect/Redacted"

export type Store =
  | { readonly kind: "sqlite"; readonly filename: string }
  | { readonly kind: "postgres"; readonly url: Redacted.Redacted<string> }

export const sqliteStore = (filename: string): Store => ({ kind: "sqlite", filename })

/**
 * `--store`'s value, a `postgres://` (or `postgresql://`) URL naming a database, as a Store; or an
 * error message that says what it takes.
 */
export const parseStoreUrl = (value: string): Store | { readonly error: string } => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return {
      error: `takes a Postgres URL such as postgres://user@127.0.0.1:5432/spindle, or sqlite for the home's own file (got '${value}').`
    }
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    return {
      error: `takes a postgres:// URL (got a ${url.protocol}// one); leave it out to use the embedded SQLite store in the home.`
    }
  }
  if (url.pathname.length <= 1) {
    return {
      error: "names no database: end the URL with /<database>, e.g. postgres://127.0.0.1:5432/spindle."
    }
  }
  return { kind: "postgres", url: Redacted.make(value) }
}

/** The store as messages name it: the SQLite file, or the Postgres URL without its password. */
export const describeStore = (store: Store) =>
  store.kind === "sqlite" ? store.filename : describeUrl(store.url)

/** The URL without its password, to show in messages and logs. */
export const describeUrl = (url: Redacted.Redacted<string>) => {
  try {
    const parsed = new URL(Redacted.value(url))
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    return "postgres://(unparsable URL)"
  }
}
