'use strict'
// node-asgi/platformatic: handleStream() with `websocket: true`: request.write() sends text
// (string) or binary (Buffer) messages, response.next() resolves to each message the app sends
// (a Buffer) and to null once closed, request.end() closes; denials reject.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { Python, Request } = require('../lib/platformatic')
const { FIXTURES, runNodeProcess } = require('./helpers')

const p = new Python({ docroot: FIXTURES, appTarget: 'platformatic_apps:ws_echo' })
after(() => p.close())

test('echo: text and binary messages, in order, then end() closes', async () => {
  const req = new Request({ url: 'http://example.com/echo', websocket: true })
  const res = await p.handleStream(req)
  assert.equal(res.status, 101)
  assert.equal(res.headers.get('x-accepted'), 'yes') // the websocket.accept headers
  await req.write('hello')
  assert.equal((await res.next()).toString(), 'hello')
  const bytes = Buffer.from([0, 1, 2, 253, 254, 255])
  await req.write(bytes)
  assert.ok((await res.next()).equals(bytes))
  for (const m of ['a', 'b', 'c']) await req.write(m) // several before reading
  assert.deepEqual([(await res.next()).toString(), (await res.next()).toString(), (await res.next()).toString()], ['a', 'b', 'c'])
  await req.end()
  assert.equal(await res.next(), null)
  await assert.rejects(req.write('after end()'), { code: 'ERR_STREAM_WRITE_AFTER_END' })
})

test('the app closing after accepting: next() resolves to null, write() rejects', async () => {
  const req = new Request({ url: '/bye', websocket: true })
  const res = await p.handleStream(req)
  assert.equal(await res.next(), null)
  await assert.rejects(req.write('too late'), { code: 'ERR_WEBSOCKET_CLOSED' })
})

test('for await reads the messages until the close; a 1 MiB message arrives whole', async () => {
  const req = new Request({ url: '/echo', websocket: true })
  const res = await p.handleStream(req)
  const big = 'x'.repeat(1024 * 1024)
  await req.write(big)
  await req.write('last')
  const got = []
  for await (const message of res) {
    got.push(message.toString())
    if (got.length === 2) await req.end()
  }
  assert.equal(got[0].length, big.length)
  assert.equal(got[1], 'last')
})

test('ten connections at once', async () => {
  const sessions = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const req = new Request({ url: `/echo/${i}`, websocket: true })
    return { req, res: await p.handleStream(req), i }
  }))
  await Promise.all(sessions.map(async ({ req, res, i }) => {
    await req.write(`connection ${i}`)
    assert.equal((await res.next()).toString(), `connection ${i}`)
    await req.end()
  }))
})

test('a denied handshake rejects with the status a client would get; HTTP to the app gets its 426', async () => {
  await assert.rejects(p.handleStream(new Request({ url: '/deny', websocket: true })), { name: 'WebSocketDeniedError', status: 403 })
  const res = await p.handleRequest(new Request({ url: '/echo' }))
  assert.equal(res.status, 426)
  assert.equal(res.body.toString(), 'Upgrade Required')
})

test('an AbortSignal aborted before the handshake rejects with its reason', async () => {
  await assert.rejects(p.handleStream(new Request({ url: '/echo', websocket: true }), AbortSignal.abort()), { name: 'AbortError' })
})

test('a session outlives its dropped Python instance: the instance is closed only once its responses are unreachable', async () => {
  const script = `
    const { Python, Request } = require(${JSON.stringify(require.resolve('../lib/platformatic'))})
    async function main () {
      let python = new Python({ docroot: ${JSON.stringify(FIXTURES)}, appTarget: 'platformatic_apps:ws_echo' })
      const req = new Request({ url: '/echo', websocket: true })
      const res = await python.handleStream(req)
      python = null
      for (let i = 0; i < 5; i++) {
        globalThis.gc()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await req.write('still open')
      process.stdout.write(String(await res.next()))
      await req.end()
    }
    main()`
  const r = await runNodeProcess(['--expose-gc', '-e', script], { timeoutMs: 30000 })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'still open')
})
