// Type test for 'node-asgi/testing': the documented usages compile; @ts-expect-error marks usages that must not.
import { createTestClient, TestClient, TestWebSocket, WebSocketDisconnect, WebSocketDeniedError } from 'node-asgi/testing'
import type { TestResponse, WebSocketMessage } from 'node-asgi/testing'
import { PythonHandler } from 'node-asgi'

async function main (): Promise<void> {
  const client = await createTestClient({ app: 'main:app', appDir: './py', lifespan: 'on', baseUrl: 'http://testserver', client: ['testclient', 50000] })
  const res: TestResponse = await client.request({ method: 'POST', url: '/items', headers: { 'content-type': 'application/json' }, body: '{}' })
  const status: number = res.status
  const text: string = res.text()
  console.log(status, text, res.json(), res.headers['set-cookie'])
  const streamed: Response = await client.fetch('/stream', { method: 'GET' })
  console.log(await streamed.text())

  const ws: TestWebSocket = await client.websocket('/ws', { query: { room: '1' }, subprotocols: ['v1'], headers: { cookie: 'a=1' } })
  await ws.send('hello')
  await ws.sendText('hi')
  await ws.sendBytes(new Uint8Array([1, 2]))
  await ws.sendJson({ a: 1 }, { mode: 'binary' })
  const message: WebSocketMessage = await ws.receive()
  if (message.type === 'close') console.log(message.code, message.reason)
  else if (message.type === 'text') console.log(message.data.toUpperCase())
  const received: string = await ws.receiveText()
  console.log(received, ws.subprotocol, await ws.receiveJson())
  for await (const m of ws) console.log(m.type === 'binary' ? m.data.length : m.data)
  await ws.close(1000, 'bye')
  await client.close()

  const own = new TestClient(new PythonHandler({ app: 'main:app' }), { baseUrl: 'https://example.test', client: null })
  await own.start()
  try {
    await own.websocket('/denied')
  } catch (err) {
    if (err instanceof WebSocketDeniedError) console.log(err.status, err.closeCode, err.body.length)
    if (err instanceof WebSocketDisconnect) console.log(err.code)
  }

  // @ts-expect-error app is required
  await createTestClient({ appDir: './py' })
  // @ts-expect-error sendText takes a string
  await ws.sendText(42)
  // @ts-expect-error client is a [host, port] pair
  await createTestClient({ app: 'main:app', client: 'testclient' })
  // @ts-expect-error websocket() needs a path
  await client.websocket()
}
main().catch(console.error)
