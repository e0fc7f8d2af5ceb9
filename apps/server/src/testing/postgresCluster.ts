// A throwaway Postgres cluster for tests and benchmarks: Debian's `postgresql` binaries run a new
// cluster in a temp folder, on a free loopback port, as a non-root user (`postgres` when we are
// root: Postgres refuses to run as root), with no system service involved. Not shipped.
import { execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface PostgresCluster {
  /** The `postgres` database as its superuser `spindle`, e.g. postgres://spindle@127.0.0.1:PORT/postgres. */
  readonly adminUrl: string
  readonly port: number
  readonly dir: string
  /** Stops the server at once and removes its folder. */
  readonly stop: () => void
}

const INSTALL =
  "install Debian's postgresql package (apt-get install -y postgresql), then run the tests again"

/** The folder holding initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/<v>/bin. */
export const postgresBin = (): string => {
  const found = findPostgresBin()
  if (found === undefined) throw new Error(`No Postgres server binaries (initdb, pg_ctl) found: ${INSTALL}.`)
  return found
}

export const postgresInstalled = () => findPostgresBin() !== undefined

const findPostgresBin = (): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir
  }
  const root = "/usr/lib/postgresql"
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : []
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin")
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

/** As `postgres` when we are root (Postgres refuses root), else as ourselves. */
const asServerUser = (command: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]]

const run = (command: string, args: ReadonlyArray<string>) => {
  const [file, argv] = asServerUser(command, args)
  execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 })
}

/**
 * Starts a new cluster. `durable: false` (tests) turns fsync off; benchmarks keep the defaults.
 */
export const startPostgresCluster = async (
  options: { readonly durable?: boolean } = {}
): Promise<PostgresCluster> => {
  const bin = postgresBin()
  const dir = mkdtempSync(join(tmpdir(), "spindle-pg-"))
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
    chownSync(dir, uid, gid)
  }
  const data = join(dir, "data")
  run(join(bin, "initdb"), [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "spindle",
    "-E",
    "UTF8",
    // The C locale exists everywhere; a CI machine may name one in LANG it does not have.
    "--no-locale",
    "--no-instructions"
  ])
  const port = await freePort()
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=400",
    ...(options.durable === true
      ? []
      : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"])
  ].join(" ")
  run(join(bin, "pg_ctl"), [
    "-D",
    data,
    "-o",
    settings,
    "-l",
    join(dir, "server.log"),
    "-w",
    "-t",
    "30",
    "start"
  ])
  return {
    adminUrl: `postgres://spindle@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stop: () => {
      try {
        run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
