// Type definitions for node-asgi: serve Python ASGI 3.0 apps from Node.js through an embedded CPython.
/// <reference types="node" />
import { EventEmitter } from 'node:events'
import { IncomingMessage, ServerResponse, Server } from 'node:http'
import { Duplex } from 'node:stream'

/** Log levels, uvicorn's names. */
export type LogLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug' | 'trace'

/** A console-like logger. */
export interface Logger {
  error (message: string): void
  warn (message: string): void
  info (message: string): void
  debug? (message: string): void
}

export interface PythonHandlerOptions {
  /** The ASGI app as a `"module:attribute"` import string, e.g. `"main:app"`. Required. */
  app: string
  /** Directory put first on `sys.path` to import `app` from. Default: `process.cwd()`. */
  appDir?: string
  /**
   * Lifespan protocol: `'auto'` (default) runs it and serves without it when the app raises for the
   * lifespan scope; `'on'` makes such an exception fail `start()`; `'off'` never runs it.
   */
  lifespan?: 'auto' | 'on' | 'off'
  /**
   * A virtualenv directory whose `pyvenv.cfg` and site-packages Python uses. Default:
   * `$VIRTUAL_ENV`. One interpreter serves the whole process: every handler must agree.
   */
  virtualenv?: string | null
  /** ASGI `root_path` for an app served below a path prefix; Express mount paths are appended. Default `''`. */
  rootPath?: string
  /** Treat `app` as a factory: call it (no arguments) to get the ASGI app. Default `false`. */
  factory?: boolean
  /**
   * The asyncio loop implementation. Default `'asyncio'`. `'uvloop'` is faster but uvloop 0.17 can
   * deadlock the process when the app spawns subprocesses while Node spawns a child at the same time.
   * `'auto'` (the CLI's default) picks uvloop when it imports, else asyncio.
   */
  loop?: 'asyncio' | 'uvloop' | 'auto'
  /**
   * Whether `scope.path` includes `root_path` (the ASGI spec and uvicorn >= 0.26; default `true`).
   * Set `false` for Starlette < 0.33 / FastAPI < 0.109 (e.g. Debian 12's), which route on
   * `scope.path` as is and would answer 404 under a root path.
   */
  pathIncludesRootPath?: boolean
  /** Seconds `close()` waits for in-flight requests before cancelling them; `null` waits forever. Default 30. */
  timeoutGracefulShutdown?: number | null
  /** Messages below this level are not logged. Default `'warning'`. */
  logLevel?: LogLevel
  /** Where log lines (app tracebacks, lifespan messages) go. Default `console`. */
  logger?: Logger
  /** Response bytes the app may send ahead of a congested socket before its `send()` waits. Default 65536. */
  responseHighWater?: number
  /** Request bytes handed to Python before reading pauses until the app calls `receive()`. Default 65536. */
  requestHighWater?: number
  /** Largest incoming WebSocket message in bytes; a larger one closes the connection with 1009. Default 16 MiB. */
  wsMaxSize?: number
  /** Incoming WebSocket messages queued for an app that is not receiving before reading pauses. Default 32. */
  wsMaxQueue?: number
  /** Seconds between WebSocket pings; 0 disables them. Default 20. */
  wsPingInterval?: number
  /** Seconds to wait for a pong before closing with 1011. Default 20. */
  wsPingTimeout?: number
  /** Negotiate permessage-deflate with clients that offer it. Default `true`. */
  wsPerMessageDeflate?: boolean
  /** Requests and WebSocket connections in flight beyond which new ones get an immediate 503. Default `null` (no limit). */
  limitConcurrency?: number | null
  /**
   * Largest request body in bytes. A larger Content-Length gets 413 before the app sees anything;
   * a body without Content-Length that grows past it gives the app `http.disconnect` and the
   * client 413 (or a closed connection if the app already responded). Default `null` (no limit).
   */
  maxRequestBodySize?: number | null
  /** Requests with more header fields get 431. Default 100. */
  maxHeaderCount?: number
  /** Trust `X-Forwarded-For`/`-Proto`/`-Port` from `forwardedAllowIps` peers for scope `client`, `scheme` and `server` port (uvicorn's `--proxy-headers`). Default `false`. */
  proxyHeaders?: boolean
  /** Trusted proxies: addresses, CIDR networks or `'*'`. Default `$FORWARDED_ALLOW_IPS` or `'127.0.0.1'`. */
  forwardedAllowIps?: string | string[]
  /** Python logging configuration applied before the app is imported: a `dictConfig` object or a `.json`/`.yaml`/`.ini` file path. */
  logConfig?: string | Record<string, unknown> | null
}

/** A request for `handleRequest()`. */
export interface InProcessRequest {
  /** HTTP method. Default `'GET'`. */
  method?: string
  /** Path and query, e.g. `'/items?x=1'`. Default `'/'`. */
  url?: string
  /** Header names to values (arrays repeat a header), or a flat `[name, value, ...]` array. */
  headers?: Record<string, string | number | Array<string | number>> | string[]
  /** The request body. A `content-length` header is added when missing. */
  body?: Buffer | Uint8Array | string
}

/** What `handleRequest()` resolves with. */
export interface InProcessResponse {
  status: number
  /** Lower-cased names; repeated headers (and always `set-cookie`) as arrays. */
  headers: Record<string, string | string[]>
  /** Headers exactly as the app sent them: `[name, value, name, value, ...]`. */
  rawHeaders: string[]
  body: Buffer
}

/** Options of `handler.fetch()`. */
export interface FetchOptions {
  /**
   * ASGI `root_path` for this call (default: the handler's `rootPath`). The request URL's path is
   * taken as below it, as a proxy that strips the prefix (or Hono's `mount()`) hands it over.
   */
  rootPath?: string
  /** The scope's `client` address as `[host, port]`. Default `null` (none). */
  client?: [host: string, port: number] | null
}

/** A Python exception, carried into JS. */
export class PythonError extends Error {
  /**
   * `info` as node-asgi flattens a Python exception; `context` (what node-asgi was doing)
   * prefixes the message: `"context: type: message"`.
   */
  constructor (info: { type: string, message: string, traceback?: string }, context?: string)
  name: 'PythonError'
  /** The Python exception type, qualified with its module unless it is a builtin. */
  type: string
  /** `str()` of the Python exception. */
  pythonMessage: string
  /** The formatted Python traceback, or `''`. */
  traceback: string
  /** Set when `handleRequest()` rejected because the response was left incomplete. */
  incomplete?: boolean
}

/** Options of `handler.listen()`; the handler's own options (limits, WebSocket settings) apply too. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. Default 8000. */
  port?: number
  /** IPv4 or IPv6 address to bind (`'localhost'` means 127.0.0.1). Default `'127.0.0.1'`. */
  host?: string
  /** Pending connection queue length. Default 2048. */
  backlog?: number
  /** Seconds an idle keep-alive connection stays open. Default 5. */
  timeoutKeepAlive?: number
  /** Seconds a connection may take to send a complete request head (then 408, or a silent close when it sent nothing). Default 30. */
  timeoutHeaders?: number
  /** Bytes of request line and headers beyond which the request gets 431. Default 16384. */
  maxHeaderSize?: number
  /** Value of the `server` response header, or `false` for none (an app's own `server` header wins). Default `'node-asgi'`. */
  serverHeader?: string | false
  /** Send a `date` header (an app's own wins). Default `true`. */
  dateHeader?: boolean
  /** Emit `'accessLog'` events (one per turn of the event loop, lines joined with `\n`). Default `false`. */
  accessLog?: boolean
  /** Listen on this Unix socket instead of `host`/`port` (a stale socket file is replaced). */
  path?: string
  /** Serve this inherited listening socket (TCP or Unix) instead of `host`/`port`. */
  fd?: number
  /** `[name, value]` pairs sent with every app response unless the app sends the same name. Default `[]`. */
  defaultHeaders?: Array<[string, string]>
}

/**
 * The native HTTP/1.1 + WebSocket server `handler.listen()` resolves to: libuv and llhttp on
 * Node's own event loop, with no JavaScript per request.
 *
 * Events: `'close'` once every connection is closed after `close()`; `'accessLog'` `(lines: string)`
 * when `accessLog` is on.
 */
export class NativeHttpServer extends EventEmitter {
  /** `{ address, family, port }` while listening (the path on a Unix socket), else `null`. */
  address (): { address: string, family: 'IPv4' | 'IPv6', port: number } | string | null
  /** Open connections (keep-alive and WebSocket). */
  readonly connections: number
  /** Requests and WebSockets the app is serving now. */
  readonly inFlight: number
  /** `true` until `close()` is called. */
  readonly listening: boolean
  /**
   * Stops accepting, closes idle keep-alive connections, closes WebSockets with 1012 and lets
   * requests in flight finish; resolves (and calls `callback`) once every connection is closed.
   */
  close (callback?: () => void): Promise<void>
  /**
   * As `close()`, but idle keep-alive connections stay open up to `idleGrace` seconds and a request
   * that arrives meanwhile is answered with `connection: close` instead of being reset.
   */
  close (options: { idleGrace?: number }, callback?: () => void): Promise<void>
  /** Closes every connection at once. */
  closeAllConnections (): void
  /**
   * Serves a connected socket accepted elsewhere (accept it with `pauseOnConnect`): the server takes
   * a duplicate of its descriptor and destroys `socket`. Throws when the server is closing.
   */
  adopt (socket: import('node:net').Socket): void

  on (event: 'close', listener: () => void): this
  on (event: 'accessLog', listener: (lines: string) => void): this
  on (event: string | symbol, listener: (...args: any[]) => void): this
}

/**
 * Serves one ASGI app from an embedded CPython whose asyncio loop runs on its own thread.
 *
 * Events: `'appError'` `(error: PythonError)` for every exception an app raises while serving
 * (it is also logged); `'error'` `(error: PythonError)` when the loop thread dies unexpectedly
 * (only emitted when a listener is attached; it is always logged).
 */
export class PythonHandler extends EventEmitter {
  constructor (options: PythonHandlerOptions)
  /** The normalised options. */
  readonly options: Readonly<Required<PythonHandlerOptions>>
  /** Life cycle state. */
  readonly state: 'new' | 'starting' | 'started' | 'closing' | 'closed' | 'failed'
  /**
   * Starts Python (once per process), imports the app and runs lifespan startup. Rejects with a
   * `PythonError` when the app cannot be imported or startup fails. Idempotent.
   */
  start (): Promise<void>
  /**
   * A `(req, res)` listener for `http.createServer()` or Express `app.use('/mount', ...)`. Requests
   * that arrive before `start()` completes wait for it (and start the handler if needed).
   */
  listener (): (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void
  /**
   * An `'upgrade'` listener for node:http(s) servers that serves WebSocket connections with the
   * ASGI websocket protocol. The handshake completes only when the app sends `websocket.accept`
   * (its `subprotocol` and `headers` go into the 101 response); `websocket.close` before that
   * answers 403, the `websocket.http.response` extension sends the app's own response, and an
   * exception or a return before accepting answers 500. Invalid handshakes get 400.
   */
  upgradeListener (): (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  /** Installs `listener()` (on `'request'` and `'checkContinue'`) and `upgradeListener()` (on `'upgrade'`); returns `server`. */
  attach<S extends Server> (server: S): S
  /**
   * A node:http server already serving this handler (requests and WebSockets) with the CLI's
   * hardening: a connection sending no complete head within `timeoutHeaders` seconds (default 30)
   * is closed, idle keep-alive connections close after `timeoutKeepAlive` (default 5), heads over
   * `maxHeaderSize` bytes (default 16384) or with more than `maxHeaderCount` fields get 431, and
   * there is no overall request timeout. `listener` may wrap the request listener.
   */
  createServer (options?: {
    timeoutKeepAlive?: number
    timeoutHeaders?: number
    maxHeaderSize?: number
    listener?: ((listener: (req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse) => void) | null
    /** `tls.createServer()` options (`key`, `cert`, `ca`, `requestCert`...): serve through node:https. */
    tls?: Record<string, unknown> | null
  }): Server
  /**
   * Serves the handler on a native HTTP/1.1 + WebSocket server (starting the handler first if
   * needed). Rejects with a `TypeError` naming a bad option, the handler's start error, or a listen
   * error with `code` (e.g. `'EADDRINUSE'`). `close()` on the handler closes it gracefully too.
   */
  listen (options?: ListenOptions): Promise<NativeHttpServer>
  /** A native server that does not listen: hand it sockets with `server.adopt(socket)`. Options as listen()'s. */
  createNativeServer (options?: ListenOptions): Promise<NativeHttpServer>
  /** Runs one request through the app in-process, without sockets. */
  handleRequest (request?: InProcessRequest): Promise<InProcessResponse>
  /**
   * Runs a WHATWG `Request` through the app in-process and resolves with a `Response` as soon as the
   * app starts it; its body streams as the app sends (the app's `send()` waits while it is unread),
   * and the request body is read only as the app receives it. The request's `signal` (or cancelling
   * the body) gives the app `http.disconnect`. Scope: scheme, server and Host from the URL. Bound
   * to its handler (usable as `app.mount('/py', handler.fetch, ...)`). Rejects with a `TypeError`
   * for a non-Request, a bad option or a used body; with the signal's reason when aborted first;
   * with the handler's error when it is closed or failed to start.
   */
  fetch (request: Request, options?: FetchOptions | null): Promise<Response>
  /**
   * Stops accepting requests (new ones are answered 503), closes open WebSockets with 1012, waits
   * for requests and connections in flight up to `timeoutGracefulShutdown`, runs lifespan shutdown
   * and stops the loop thread.
   */
  close (): Promise<void>

  on (event: 'appError', listener: (error: PythonError) => void): this
  on (event: 'error', listener: (error: PythonError) => void): this
  on (event: string | symbol, listener: (...args: any[]) => void): this
}
