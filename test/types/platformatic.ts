// Type test for 'node-asgi/platformatic': @platformatic/python-node's usages (README.md and
// REFERENCE.md) compile unchanged against platformatic.d.ts; wrong usages are rejected.
import { Python, PythonHandler, Request, Response, Headers, PythonError } from 'node-asgi/platformatic'
import type { PythonOptions, RequestOptions, ResponseOptions, HeaderMap, SocketInfo } from 'node-asgi/platformatic'

async function main (): Promise<void> {
  const options: PythonOptions = { docroot: './python-apps', appTarget: 'main:app' }
  const python = new Python(options)
  const docroot: string = python.docroot
  const alias: Python = new PythonHandler({ appTarget: { file: 'main', function: 'app' } })

  const socket: SocketInfo = { localAddress: '127.0.0.1', localPort: 3000, localFamily: 'IPv4', remoteAddress: '127.0.0.1', remotePort: 5000, remoteFamily: 'IPv4' }
  const init: RequestOptions = { method: 'POST', url: '/api/data', headers: { 'Content-Type': 'application/json', Accept: ['text/html', 'application/json'] }, body: Buffer.from('{}'), socket }
  const request = new Request(init)
  request.method = 'PUT'
  request.url = 'https://api.example.com/v2/users'
  const path: string = request.path
  request.headers.set('Authorization', 'Bearer new-token')
  request.docroot = '/var/www/html'
  const body: Buffer = request.body
  await request.write('chunk')
  await request.end()

  const response: Response = await python.handleRequest(request)
  const status: number = response.status
  const contentType: string | null = response.headers.get('content-type')
  const text: string | undefined = response.body?.toString()
  const log: string = response.log.toString()
  const exception: string | null = response.exception
  const json = response.toJSON()
  const sync: Response = python.handleRequestSync(new Request({ url: '/' }))
  const aborted: Response = await python.handleRequest(new Request({ url: '/' }), AbortSignal.timeout(1000))

  const streamed = await python.handleStream(new Request({ method: 'GET', url: 'http://example.com/' }))
  for await (const chunk of streamed) {
    const b: Buffer = chunk
  }
  const ws = new Request({ url: 'http://example.com/echo', websocket: true })
  const wsResponse = await python.handleStream(ws)
  await ws.write(Buffer.from([1, 2, 3]))
  const message: Buffer | null = await wsResponse.next()
  await ws.end()
  await python.close()

  const map: HeaderMap = { Accept: ['text/html', 'application/json'], 'X-One': 'v' }
  const headers = new Headers(map)
  const size: number = headers.size
  const all: string[] = headers.getAll('Accept')
  const line: string | null = headers.getLine('Accept')
  const added: boolean = headers.add('Accept', 'text/xml')
  const entries: Array<[string, string]> = headers.entries()
  const keys: string[] = headers.keys()
  const values: string[] = headers.values()
  headers.forEach((value, name, h) => { const same: Headers = h })
  const obj = headers.toJSON()
  const copy = new Headers(headers)

  const built = new Response({ status: 201, headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{}'), log: Buffer.from('L'), exception: 'boom' } satisfies ResponseOptions)
  built.status = 404
  built.headers = new Headers()

  try {
    await python.handleRequest(request)
  } catch (err) {
    if (err instanceof PythonError) {
      const t: string = err.type
      const tb: string = err.traceback
    }
  }

  // @ts-expect-error url is required
  new Request({ method: 'GET' })
  // @ts-expect-error handleRequest takes a Request, not its options
  await python.handleRequest({ url: '/' })
  // @ts-expect-error status is a number
  new Response({ status: '200' })
  // @ts-expect-error header values are strings
  new Headers({ a: 1 })
  // @ts-expect-error add() takes one string
  headers.add('a', ['x'])
  // @ts-expect-error size is read-only
  headers.size = 3
  // @ts-expect-error log is read-only
  built.log = Buffer.from('x')
  // @ts-expect-error docroot is read-only
  python.docroot = '/elsewhere'
  // @ts-expect-error appTarget is a string or { file, function }
  new Python({ appTarget: 42 })
}

void main
