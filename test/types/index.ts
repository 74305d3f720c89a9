// Type test for 'node-asgi': the documented usages compile; @ts-expect-error marks usages that must not.
// (Written without Node's own types, so that it checks node-asgi's declarations with or without
// @types/node installed: with it, Buffer and the node:http types are checked too.)
import { PythonHandler, PythonError } from 'node-asgi'
import type { PythonHandlerOptions, InProcessResponse, NativeHttpServer, ListenOptions, LogLevel } from 'node-asgi'

const options: PythonHandlerOptions = {
  app: 'main:app',
  appDir: './py',
  lifespan: 'auto',
  rootPath: '/api',
  loop: 'uvloop',
  timeoutGracefulShutdown: null,
  logLevel: 'info',
  logger: console,
  limitConcurrency: 100,
  maxRequestBodySize: null,
  wsPerMessageDeflate: false
}
const handler = new PythonHandler(options)

async function main (): Promise<void> {
  await handler.start()
  const state: 'new' | 'starting' | 'started' | 'closing' | 'closed' | 'failed' = handler.state
  const listener = handler.listener()
  const upgrade = handler.upgradeListener()
  console.log(listener.length, upgrade.length)
  handler.createServer({ timeoutKeepAlive: 5, listener: (inner) => (req, res) => inner(req, res) })
  const listenOptions: ListenOptions = { port: 0, host: '127.0.0.1', serverHeader: false, accessLog: true }
  const native: NativeHttpServer = await handler.listen(listenOptions)
  const address = native.address()
  if (address !== null && typeof address !== 'string') console.log(address.port, address.family === 'IPv6', native.connections, native.inFlight)
  const unix: NativeHttpServer = await handler.listen({ path: '/tmp/app.sock', defaultHeaders: [['x-served-by', 'node-asgi']] })
  await unix.close({ idleGrace: 1 })
  const manual: NativeHttpServer = await handler.createNativeServer({ serverHeader: 'edge' })
  manual.adopt(new (await import('node:net')).Socket())
  // @ts-expect-error defaultHeaders are [name, value] pairs
  await handler.listen({ defaultHeaders: ['x-a: b'] })
  native.on('accessLog', (lines) => lines.toUpperCase())
  await native.close()
  const res: InProcessResponse = await handler.handleRequest({ method: 'POST', url: '/items', headers: { 'x-n': [1, 2] }, body: '{}' })
  const status: number = res.status
  const body = res.body
  await handler.handleRequest({ headers: ['content-type', 'text/plain'], body: new Uint8Array(2) })
  handler.on('appError', (error) => { const t: string = error.traceback; console.log(t, error.type, error.pythonMessage) })
  handler.on('error', (error) => { if (error instanceof PythonError) console.log(error.message) })
  await handler.close()
  const err = new PythonError({ type: 'ValueError', message: 'bad' }, 'loading the app')
  const level: LogLevel = 'critical'
  console.log(state, status, body, err.type, level)

  // @ts-expect-error app is required
  new PythonHandler({ appDir: '.' })
  // @ts-expect-error unknown option (a typo)
  new PythonHandler({ app: 'main:app', appDri: '.' })
  // @ts-expect-error lifespan is 'auto' | 'on' | 'off'
  new PythonHandler({ app: 'main:app', lifespan: 'yes' })
  // @ts-expect-error logLevel uses uvicorn's names ('warning', not 'warn')
  new PythonHandler({ app: 'main:app', logLevel: 'warn' })
  // @ts-expect-error limits are numbers
  new PythonHandler({ app: 'main:app', limitConcurrency: '10' })
  // @ts-expect-error no such method
  handler.serve()
  // @ts-expect-error state is read-only
  handler.state = 'closed'
  // @ts-expect-error handleRequest's url is a string
  await handler.handleRequest({ url: 1 })
  // @ts-expect-error handleRequest's header values are strings, numbers or arrays of them
  await handler.handleRequest({ headers: { 'x-a': { b: 1 } } })
  // @ts-expect-error listen's port is a number
  await handler.listen({ port: '8000' })
  // @ts-expect-error serverHeader is a string or false
  await handler.listen({ serverHeader: true })
  // @ts-expect-error the response status is a number
  const wrong: string = res.status
  console.log(wrong)
}
main().catch(console.error)
