// Types for node-asgi/platformatic: the API of @platformatic/python-node 2.x (Python, Request,
// Response, Headers) on node-asgi. See README.md, "Migrating from @platformatic/python-node".

/** A header value: one string, or several for a repeated name. */
export type HeaderMapValue = string | string[]

/** Headers as a plain object: name → value(s). */
export type HeaderMap = Record<string, HeaderMapValue>

/** The app to load: `"file:function"` (DOCROOT/file.py, its attribute `function`) or `{ file, function }`. */
export type PythonHandlerTarget = string | { file: string, function: string }

export interface PythonOptions {
  /** The directory the app's file is in; also put on sys.path. Default: the working directory. */
  docroot?: string
  /** Default: `"main:app"`. */
  appTarget?: PythonHandlerTarget
}

/** Addresses of the connection the request came on; they become the scope's `client` and `server`. */
export interface SocketInfo {
  localAddress?: string
  localPort?: number
  localFamily?: string
  remoteAddress?: string
  remotePort?: number
  remoteFamily?: string
}

export interface RequestOptions {
  /** Default: `'GET'`. */
  method?: string
  /** A path (`'/items?x=1'`) or an absolute http(s)/ws(s) URL (which sets the scope's scheme and server). */
  url: string
  headers?: Headers | HeaderMap
  body?: Buffer | Uint8Array | string
  socket?: SocketInfo
  /** Kept on the request; the app is always loaded from the Python instance's docroot. */
  docroot?: string
  /** handleStream() opens a WebSocket with the app instead of an HTTP exchange. */
  websocket?: boolean
}

export interface ResponseOptions {
  /** Default: 200. */
  status?: number
  headers?: Headers | HeaderMap
  body?: Buffer | Uint8Array | string
  log?: Buffer | Uint8Array | string
  exception?: string | null
}

/** A multi-value header map with lower-cased names. Methods throw a TypeError naming a bad name or value. */
export declare class Headers {
  constructor (init?: Headers | HeaderMap | null)
  /** The last value of `key`, or null. */
  get (key: string): string | null
  /** Every value of `key` (empty when absent). */
  getAll (key: string): string[]
  /** The values of `key` joined with ',', or null. Not for set-cookie: use getAll(). */
  getLine (key: string): string | null
  has (key: string): boolean
  /** Replaces the values of `key`. */
  set (key: string, value: HeaderMapValue): boolean
  /** Adds a value after those `key` has. */
  add (key: string, value: string): boolean
  /** Removes every value of `key`; whether there was one. */
  delete (key: string): boolean
  clear (): void
  /** The number of names. */
  readonly size: number
  /** [name, getLine(name)] per name. */
  entries (): Array<[string, string]>
  keys (): string[]
  /** getLine(name) per name. */
  values (): string[]
  forEach (callback: (value: string, name: string, headers: this) => void): void
  /** name → value, or value[] for a repeated name. */
  toJSON (): Record<string, HeaderMapValue>
}

export declare class Request {
  /** @throws TypeError naming a bad field. */
  constructor (options: RequestOptions)
  method: string
  url: string
  /** The URL's path, without the query. */
  readonly path: string
  headers: Headers
  docroot: string | null
  /** The body given to the constructor (or set); written chunks are not in it. */
  body: Buffer
  readonly websocket: boolean
  readonly socket: SocketInfo | null
  /**
   * HTTP: writes a chunk of the body (call it before handleStream(), then until end(); a request
   * given to handleRequest() is sent once end() was called). WebSocket: sends a message — a string
   * as text, a Buffer as binary. Resolves once it is accepted.
   */
  write (chunk: Buffer | Uint8Array | string): Promise<void>
  /** HTTP: ends the body. WebSocket: closes with 1000. */
  end (): Promise<void>
  toJSON (): { method: string, url: string, headers: Record<string, HeaderMapValue>, body: Buffer, docroot?: string }
}

export declare class Response implements AsyncIterable<Buffer> {
  /** @throws TypeError naming a bad field. */
  constructor (options?: ResponseOptions | null)
  status: number
  headers: Headers
  /** The buffered body; null for a response from handleStream() (read it with next() or for await). */
  body: Buffer | null
  /** The Python logging records emitted while serving the request (and the traceback of an exception). */
  readonly log: Buffer
  /** `"Type: message"` of an exception the app raised after completing its response, else null. */
  readonly exception: string | null
  /** The next body chunk (WebSocket: message), or null at the end (WebSocket: once closed). */
  next (): Promise<Buffer | null>
  [Symbol.asyncIterator] (): AsyncIterator<Buffer>
  toJSON (): { status: number, headers: Record<string, HeaderMapValue>, body: Buffer | null, log?: Buffer, exception?: string }
}

/** A Python exception carried into JS (the same class as node-asgi's). */
export declare class PythonError extends Error {
  /** Qualified Python type, e.g. 'ValueError'. */
  readonly type: string
  /** str() of the exception. */
  readonly pythonMessage: string
  /** The formatted Python traceback. */
  readonly traceback: string
  /** From node-asgi/platformatic: what the app logged before failing. */
  log?: string
}

export declare class Python {
  /**
   * Prepares the app DOCROOT/file.py; it is loaded (and its lifespan startup run) on the first request.
   * @throws TypeError naming a bad option; Error when docroot or the app's file does not exist.
   */
  constructor (options?: PythonOptions | null)
  /** The docroot, as given. */
  readonly docroot: string
  /**
   * Runs the request; resolves with the buffered Response. Rejects with the app's PythonError when
   * it raised before completing its response, with a TypeError for bad arguments, with
   * `code: 'ERR_NODE_ASGI_CLOSED'` once closed, with `signal.reason` when aborted.
   */
  handleRequest (request: Request, signal?: AbortSignal | null): Promise<Response>
  /**
   * Runs the request and blocks this thread until the response is complete. The app runs in a
   * worker thread that loads its own instance of it on first use. Throws as handleRequest() rejects.
   */
  handleRequestSync (request: Request): Response
  /**
   * Resolves as soon as the app started its response; the body streams through next() / for await.
   * With `websocket: true`: resolves once the app accepted (status 101); rejects with a
   * WebSocketDeniedError (status 403...) when it refused.
   */
  handleStream (request: Request, signal?: AbortSignal | null): Promise<Response>
  /** Runs lifespan shutdown and stops the app (and its sync worker). Not in @platformatic/python-node. */
  close (): Promise<void>
}

/** The same class as Python (as @platformatic/python-node exports it). */
export { Python as PythonHandler }
