// Type definitions for node-asgi/testing: an in-process test client (no sockets) for node --test.
/// <reference types="node" />
import { PythonHandler, PythonHandlerOptions, InProcessRequest, InProcessResponse } from './index'

/** Options of `createTestClient()`: the handler's options plus the client's. */
export interface TestClientOptions {
  /** Scheme, Host header and scope `server` of every request. Default `'http://testserver'`. */
  baseUrl?: string
  /** The scope's `client` as `[host, port]`, or `null` for none. Default `['testclient', 50000]`. */
  client?: [host: string, port: number] | null
}

/** What `TestClient.request()` resolves with: `handleRequest()`'s result plus text() and json(). */
export interface TestResponse extends InProcessResponse {
  /** The body decoded as UTF-8. */
  text (): string
  /** The body parsed as JSON. */
  json (): any
}

/** Options of `TestClient.websocket()`. */
export interface TestWebSocketOptions {
  /** Query parameters, appended to the path's own. */
  query?: string | URLSearchParams | Record<string, string>
  /** Handshake headers (a Host header from `baseUrl` is added when missing). */
  headers?: Record<string, string | number | Array<string | number>> | string[]
  /** Offered subprotocols (`Sec-WebSocket-Protocol`). */
  subprotocols?: string[]
  /** Aborting before the app answers rejects with its reason; after, the app sees a 1006 disconnect. */
  signal?: AbortSignal
  /** ASGI `root_path` for this connection. Default: the handler's `rootPath`. */
  rootPath?: string
}

/** A message from the app, or the close that ended the WebSocket (returned again on every later call). */
export type WebSocketMessage =
  | { type: 'text', data: string }
  | { type: 'binary', data: Buffer }
  | { type: 'close', code: number, reason: string }

/** receiveText()/receiveBytes()/receiveJson() found the WebSocket closed (Starlette's name). */
export class WebSocketDisconnect extends Error {
  name: 'WebSocketDisconnect'
  /** The close code. */
  code: number
  reason: string
}

/** The app refused the handshake; `status`, `headers` and `body` are what a client would get. */
export class WebSocketDeniedError extends Error {
  name: 'WebSocketDeniedError'
  status: number
  /** Lower-cased names; repeated ones (and set-cookie) as arrays. */
  headers: Record<string, string | string[]>
  rawHeaders: string[]
  body: Buffer
  /** The `websocket.close` code when the app closed before accepting (the status is then 403), else null. */
  closeCode: number | null
}

/** One WebSocket of a TestClient, with Starlette TestClient's helpers. */
export class TestWebSocket implements AsyncIterable<Exclude<WebSocketMessage, { type: 'close' }>> {
  /** The subprotocol the app accepted with, or null. */
  readonly subprotocol: string | null
  /** The headers of the app's `websocket.accept`. */
  readonly headers: Record<string, string | string[]>
  /** true once either side closed. */
  readonly closed: boolean
  /** Resolves once the app's ASGI call has returned. */
  readonly finished: Promise<void>
  /**
   * Sends a text (string) or binary message. Resolves once the app may take more (after
   * `wsMaxQueue` unreceived messages it waits); rejects once the WebSocket is closed.
   */
  send (data: string | Uint8Array | ArrayBuffer): Promise<void>
  sendText (text: string): Promise<void>
  sendBytes (bytes: Uint8Array | ArrayBuffer): Promise<void>
  /** Sends `JSON.stringify(value)` as a text message (`mode: 'binary'`: as UTF-8 bytes). */
  sendJson (value: unknown, options?: { mode?: 'text' | 'binary' }): Promise<void>
  /** The next message, or the close. */
  receive (): Promise<WebSocketMessage>
  /** Rejects with `WebSocketDisconnect` on a close and `TypeError` on a binary message. */
  receiveText (): Promise<string>
  /** Rejects with `WebSocketDisconnect` on a close and `TypeError` on a text message. */
  receiveBytes (): Promise<Buffer>
  receiveJson (options?: { mode?: 'text' | 'binary' }): Promise<any>
  /** Closes with `code` (default 1000); resolves once the app's ASGI call returned. */
  close (code?: number, reason?: string): Promise<void>
  [Symbol.asyncIterator] (): AsyncIterator<Exclude<WebSocketMessage, { type: 'close' }>>
}

/** An in-process client for one PythonHandler. */
export class TestClient {
  /** `ownsHandler`: close() also closes the handler (as createTestClient() sets it). Default false. */
  constructor (handler: PythonHandler, options?: TestClientOptions & { ownsHandler?: boolean })
  readonly handler: PythonHandler
  /** Starts the handler (import, lifespan startup); idempotent. */
  start (): Promise<this>
  /** One request, buffered: `handleRequest()`'s shape plus text() and json(). */
  request (request?: InProcessRequest): Promise<TestResponse>
  /** The streaming variant, with fetch() semantics; a path is resolved against `baseUrl`. */
  fetch (input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** Opens a WebSocket; rejects with `WebSocketDeniedError` when the app refuses it. */
  websocket (path: string, options?: TestWebSocketOptions): Promise<TestWebSocket>
  /** Closes this client's WebSockets (1000), waits for their apps, then closes the handler it owns. */
  close (): Promise<void>
}

/**
 * Creates and starts a PythonHandler (lifespan startup included) and resolves with a TestClient that
 * owns it. Rejects with the start error (a `PythonError` when the app cannot be imported or started).
 */
export function createTestClient (options: PythonHandlerOptions & TestClientOptions): Promise<TestClient>
