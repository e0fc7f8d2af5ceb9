// The Postgres store's `SqlClient`: effect's own driver (@effect/sql-pg), with 64-bit integers
// (event sequences, counts) read as JavaScript numbers, as node:sqlite reads them. Sequences stay
// far below 2^53; a larger value fails the read rather than losing digits.
import * as PgClient from "@effect/sql-pg/PgClient"
import * as PgTypes from "@effect/sql-pg/PgTypes"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import type * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

const int8AsNumber: PgTypes.Codec<number | bigint> = {
  decode: (bytes) => {
    const value = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigInt64(0)
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Result.succeed(Number(value))
      : Result.fail(new PgTypes.CodecError({ message: `int8 ${value} is beyond a safe JavaScript number` }))
  },
  encode: (value) => {
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setBigInt64(0, BigInt(value))
    return Result.succeed(bytes)
  }
}

const types = () => {
  const registry = PgTypes.makeRegistry()
  registry.register(PgTypes.OID.int8, int8AsNumber)
  return registry
}

export interface PgOptions {
  readonly url: Redacted.Redacted<string>
  /** Connections held at once (default 8). */
  readonly maxConnections?: number
  /** How long to wait for the server before failing (default 10 s). */
  readonly connectTimeoutMs?: number
}

/** Provides `SqlClient` (and the driver's own `PgClient`, for LISTEN) for one Postgres database. */
export const layer = <E = SqlError>(
  options: PgOptions,
  onOpenError?: (error: SqlError) => E
): Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, E> =>
  PgClient.layerFrom(
    PgClient.make({
      url: options.url,
      types: types(),
      maxConnections: options.maxConnections ?? 8,
      connectTimeout: `${options.connectTimeoutMs ?? 10_000} millis`,
      applicationName: "spindle"
    }).pipe(Effect.mapError((error) => (onOpenError ? onOpenError(error) : (error as E))))
  )
