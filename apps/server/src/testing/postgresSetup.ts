// vitest's globalSetup for the `server-postgres` project: one throwaway cluster for the whole run
// (each test gets its own database in it, testStore.ts), stopped and removed at the end.
import type { TestProject } from "vitest/node"
import { startPostgresCluster } from "./postgresCluster.ts"

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string
  }
}

export default async function setup(project: TestProject) {
  const cluster = await startPostgresCluster()
  project.provide("postgresAdminUrl", cluster.adminUrl)
  return () => cluster.stop()
}
