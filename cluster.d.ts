// node-asgi/cluster: N worker processes behind one listening socket (see README "Scaling out").
import { EventEmitter } from 'node:events'

/** The CLI's options in camelCase; `app` is required, everything else has the CLI's default. */
export interface ClusterOptions {
  app: string
  appDir?: string
  /** Worker processes. Default `$WEB_CONCURRENCY` or 1. */
  workers?: number
  /** Keep each client address on one worker (Engine.IO long-polling needs it). Default `true`. */
  sticky?: boolean
  host?: string
  port?: number
  /** A Unix socket instead of host/port. */
  uds?: string | null
  /** An inherited listening socket instead of host/port. */
  fd?: number | null
  http?: 'native' | 'node'
  loop?: 'auto' | 'asyncio' | 'uvloop'
  lifespan?: 'auto' | 'on' | 'off'
  reload?: boolean
  reloadDirs?: string[]
  proxyHeaders?: boolean
  forwardedAllowIps?: string | null
  headers?: Array<[string, string]>
  accessLog?: boolean
  logLevel?: 'critical' | 'error' | 'warning' | 'info' | 'debug' | 'trace'
  [option: string]: unknown
}

/** A worker's app failed to start (the others were stopped). */
export class StartupError extends Error {}

/**
 * The primary: listens, hands each accepted connection to a worker, replaces workers that die,
 * restarts them one at a time and drains them on close. Runs no Python itself.
 *
 * Events: `'workerReady'` `{ slot, pid }`, `'workerExit'` `{ slot, pid, code, signal }`,
 * `'fatal'` `(error: StartupError)` when a replacement's app fails to start.
 */
export class Supervisor extends EventEmitter {
  constructor (options: ClusterOptions, settings?: { logger?: { error (m: string): void, warn (m: string): void, info (m: string): void } })
  /** Process ids of the serving workers, by slot (`null` while a slot restarts). */
  readonly workers: Array<number | null>
  /** The listening address, like `net.Server#address()`. */
  address (): { address: string, family: string, port: number } | string | null
  /** Listens and starts every worker; rejects with the bind error or a `StartupError`. */
  start (): Promise<void>
  /** Restarts the workers one at a time (no connection is refused meanwhile). */
  restart (): Promise<void>
  /** Stops accepting and drains every worker; resolves once all exited. */
  close (): Promise<void>
  /** Kills every worker at once. */
  kill (): void
}

/** The CLI's `--workers`/`--reload` mode (exits the process on signals). */
export function runCli (args: ClusterOptions): Promise<void>
