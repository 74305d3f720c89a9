// Type definitions for node-asgi/fastify: a Fastify 5 plugin serving a PythonHandler under its prefix.
import type { FastifyPluginAsync } from 'fastify'
import type { PythonHandler, PythonHandlerOptions } from './index'

type NodeAsgiPlugin = FastifyPluginAsync<nodeAsgi.NodeAsgiFastifyOptions>

declare namespace nodeAsgi {
  /** Mount a handler you created (and close yourself): the plugin starts it at `ready()`. */
  export interface NodeAsgiFastifyHandlerOptions {
    handler: PythonHandler
    app?: never
  }

  /**
   * PythonHandler options: the plugin creates the handler, starts it at `ready()` and closes it
   * with `fastify.close()`. `logLevel` is Fastify's own register option (the plugin's routes'
   * log level); to set node-asgi's, pass a `handler`.
   */
  export type NodeAsgiFastifyAppOptions = Omit<PythonHandlerOptions, 'logLevel'> & { handler?: never }

  /** `{ handler }` or PythonHandler options; Fastify's `prefix` sets the mount (and `root_path`). */
  export type NodeAsgiFastifyOptions = NodeAsgiFastifyHandlerOptions | NodeAsgiFastifyAppOptions

  /**
   * Serves the app for every method and path under the registration's `prefix` with
   * `root_path` = the handler's `rootPath` + prefix: the raw request body streams to the app (no
   * Fastify body parsing for those routes), responses stream back, and WebSocket handshakes under
   * the prefix on Fastify's server go to the app. Rejects `register()`/`ready()` with a
   * `TypeError` naming a bad option, or with the app's start error (a `PythonError`).
   */
  export const nodeAsgi: NodeAsgiPlugin
  export { nodeAsgi as default }
}

declare function nodeAsgi (...params: Parameters<NodeAsgiPlugin>): ReturnType<NodeAsgiPlugin>
export = nodeAsgi
