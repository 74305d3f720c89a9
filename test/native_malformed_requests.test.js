'use strict'
// The native server (handler.listen()) answers malformed HTTP/1.1 requests with 400 and closes the
// connection without the app seeing them, refuses over-limit requests (431, 413, 503), and keeps
// serving afterwards. Raw sockets, byte-exact requests.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { rawRequest, parseResponse, waitFor } = require('./helpers')
const { startNative } = require('./native_support')

const H = 'Host: x\r\n'
const POST = `POST /body HTTP/1.1\r\n${H}`

// [name, raw request bytes (latin1), todo reason when the server is known to get it wrong,
//  complete requests served before the bad one]. Errors in the body framing come after the head
// reached the app: BODY_STAGE names them; their app must see http.disconnect and no body end.
const MALFORMED = [
  ['bad method token (@)', `G@T / HTTP/1.1\r\n${H}\r\n`],
  ['bad method token (lower case, unknown)', `get / HTTP/1.1\r\n${H}\r\n`],
  ['method with NUL', `G\0ET / HTTP/1.1\r\n${H}\r\n`],
  ['bad version (HTTP/1.x)', `GET / HTTP/1.x\r\n${H}\r\n`],
  ['bad version (HTTX/1.1)', `GET / HTTX/1.1\r\n${H}\r\n`],
  ['bad version (HTTP/11)', `GET / HTTP/11\r\n${H}\r\n`],
  ['bad version (HTTP/1.2)', `GET / HTTP/1.2\r\n${H}\r\n`],
  ['NUL after the version', `GET / HTTP/1.1\0\r\n${H}\r\n`],
  ['space in the target', `GET /a b HTTP/1.1\r\n${H}\r\n`],
  ['tab in the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`],
  ['\\x01 in the target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`],
  ['\\x7f in the target', `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`],
  ['NUL in the target', `GET /a\0b HTTP/1.1\r\n${H}\r\n`],
  ['high byte in the target', `GET /\xff HTTP/1.1\r\n${H}\r\n`],
  ['Content-Length with Transfer-Encoding', `${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['Transfer-Encoding with Content-Length', `${POST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`],
  ['duplicate equal Content-Length', `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`],
  ['conflicting Content-Length', `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`],
  ['Content-Length list', `${POST}Content-Length: 5, 5\r\n\r\nhello`],
  ['non-numeric Content-Length', `${POST}Content-Length: 5x\r\n\r\nhello`],
  ['negative Content-Length', `${POST}Content-Length: -1\r\n\r\n`],
  ['Transfer-Encoding not ending in chunked', `${POST}Transfer-Encoding: gzip\r\n\r\nhello`],
  ['Transfer-Encoding chunked, gzip', `${POST}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`],
  ['bad chunk size (zz)', `${POST}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`],
  ['chunk size overflowing 64 bits', `${POST}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n`],
  ['chunk data longer than its size', `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n`],
  ['chunk size line ending in bare LF', `${POST}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`],
  ['control byte in a chunk extension', `${POST}Transfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n`],
  ['\\x01 in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`],
  ['\\x7f in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`],
  ['bare CR in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`],
  ['NUL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`],
  ['NUL in a header name', `GET / HTTP/1.1\r\n${H}X-\0A: b\r\n\r\n`],
  ['space before the colon', `GET / HTTP/1.1\r\nHost : x\r\n\r\n`],
  ['header line without a colon', `GET / HTTP/1.1\r\n${H}X-A b\r\n\r\n`],
  ['high byte in a header name', `GET / HTTP/1.1\r\n${H}X-\xe9: a\r\n\r\n`],
  ['first header line starting with SP', `GET / HTTP/1.1\r\n ${H}\r\n`],
  ['obs-fold (a header line starting with SP)', `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`],
  ['obs-fold (a header line starting with HTAB)', `GET / HTTP/1.1\r\n${H}X-A: a\r\n\tb\r\n\r\n`],
  ['empty header name', `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n'],
  ['bare LF line endings throughout', 'GET / HTTP/1.1\nHost: x\n\n'],
  ['bare LF ending a header line', `GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n`],
  ['bare LF ending the request line', `GET / HTTP/1.1\n${H}\r\n`],
  ['two Host fields', `GET / HTTP/1.1\r\n${H}Host: y\r\n\r\n`],
  ['bare LF ending the head', `GET / HTTP/1.1\r\n${H}\n`],
  ['NUL before the request line', `\0GET / HTTP/1.1\r\n${H}\r\n`],
  ['NUL between requests', `GET / HTTP/1.1\r\n${H}\r\n\0GET / HTTP/1.1\r\n${H}\r\n`, null, 1]
]

const BODY_STAGE = new Set(['Transfer-Encoding not ending in chunked', 'bad chunk size (zz)', 'chunk size overflowing 64 bits',
  'chunk data longer than its size', 'chunk size line ending in bare LF', 'control byte in a chunk extension'])

let served
before(async () => { served = await startNative('native_apps:recorder', { maxHeaderCount: 20, maxRequestBodySize: 1000, limitConcurrency: 4 }, { maxHeaderSize: 2048 }) })
after(() => served.close())

async function seen () {
  const r = await fetch(`${served.url}/seen`)
  return (await r.json()).map((record) => record.path)
}

/** Sends `bytes`; expects `okBefore` complete 200 responses, then `status`, then the close. */
async function expectRefused (bytes, status, okBefore = 0, timeoutMs = 5000) {
  const r = await rawRequest(served.port, Buffer.from(bytes, 'latin1'), { timeoutMs })
  let data = r.data
  for (let i = 0; i < okBefore; i++) {
    const ok = parseResponse(data)
    assert.ok(ok, `response ${i} is complete`)
    assert.equal(ok.status, 200, `request ${i} before the bad one is served`)
    data = ok.body.subarray(Number(ok.headers['content-length'][0]))
  }
  const res = parseResponse(data)
  assert.ok(res, `a response came back: ${JSON.stringify(r.data.toString('latin1'))}`)
  assert.equal(res.statusLine.split(' ')[0], 'HTTP/1.1')
  assert.equal(res.status, status, `status line ${JSON.stringify(res.statusLine)}`)
  assert.deepEqual(res.headers.connection, ['close'])
  assert.equal(res.body.length, Number(res.headers['content-length'][0]), 'nothing after the refusal body')
  assert.ok(r.ended, 'the server closed the connection')
  assert.equal(r.timedOut, false)
  return res
}

for (const [name, request, todo, okBefore] of MALFORMED) {
  test(`malformed: ${name} → 400 and close`, { todo: todo ?? undefined }, async () => {
    await fetch(`${served.url}/reset`, { method: 'POST' })
    const res = await expectRefused(request, 400, okBefore ?? 0, todo ? 1500 : 5000)
    assert.match(res.body.toString(), /Invalid HTTP request/)
    if (BODY_STAGE.has(name)) {
      // the head was fine: the app may have started, but it must have been told the client left
      const records = await waitFor(async () => {
        const list = await (await fetch(`${served.url}/seen`)).json()
        return list.every((r) => r.events.at(-1) === 'disconnect') && list
      }, { message: 'http.disconnect for the request with the bad body' })
      assert.ok(records.length <= 1)
    } else {
      assert.deepEqual(await seen(), okBefore ? ['/'] : [], 'the app never saw the malformed request')
    }
    const ok = await fetch(`${served.url}/after`)
    assert.equal(ok.status, 200, 'still serving afterwards')
  })
}

test('a request-line version the server does not speak (HTTP/2.0, HTTP/0.9 form) → 505 or 400, and close', async () => {
  for (const bytes of [`GET / HTTP/2.0\r\n${H}\r\n`, 'GET /\r\n\r\n']) {
    const r = await rawRequest(served.port, bytes, { timeoutMs: 5000 })
    const res = parseResponse(r.data)
    assert.ok(res && [400, 505].includes(res.status), JSON.stringify(r.data.toString('latin1')))
    assert.ok(r.ended)
  }
  assert.equal((await fetch(`${served.url}/after`)).status, 200)
})

test('a head over maxHeaderSize → 431 and close', async () => {
  await fetch(`${served.url}/reset`, { method: 'POST' })
  const bytes = `GET /big HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(3000)}\r\n\r\n`
  await expectRefused(bytes, 431)
  const many = `GET /big HTTP/1.1\r\n${H}${Array.from({ length: 15 }, (_, i) => `X-H${i}: ${'b'.repeat(200)}\r\n`).join('')}\r\n`
  await expectRefused(many, 431)
  const target = `GET /${'c'.repeat(3000)} HTTP/1.1\r\n${H}\r\n`
  await expectRefused(target, 431)
  assert.deepEqual(await seen(), [])
  assert.equal((await fetch(`${served.url}/after`, { headers: { 'x-fits': 'a'.repeat(1500) } })).status, 200, 'a head under the limit is served')
})

test('more than maxHeaderCount fields → 431 and close; exactly maxHeaderCount is served', async () => {
  await fetch(`${served.url}/reset`, { method: 'POST' })
  const fields = (n) => `${H}${Array.from({ length: n - 1 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}`
  await expectRefused(`GET /many HTTP/1.1\r\n${fields(21)}\r\n`, 431)
  assert.deepEqual(await seen(), [])
  const r = await rawRequest(served.port, `GET /twenty HTTP/1.1\r\n${fields(20)}Connection: close\r\n\r\n`.replace('X-H18: 18\r\n', ''))
  assert.equal(parseResponse(r.data).status, 200)
})

test('Content-Length over maxRequestBodySize → 413 before the app sees the request', async () => {
  await fetch(`${served.url}/reset`, { method: 'POST' })
  await expectRefused(`POST /cl HTTP/1.1\r\n${H}Content-Length: 1001\r\n\r\n`, 413)
  assert.deepEqual(await seen(), [], 'the app never saw it')
  const ok = await fetch(`${served.url}/fits`, { method: 'POST', body: Buffer.alloc(1000, 'a') })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { bytes: 1000 })
})

test('a chunked body growing past maxRequestBodySize → 413, and the app sees http.disconnect', async () => {
  await fetch(`${served.url}/reset`, { method: 'POST' })
  const body = `200\r\n${'a'.repeat(512)}\r\n200\r\n${'b'.repeat(512)}\r\n200\r\n${'c'.repeat(512)}\r\n0\r\n\r\n`
  await expectRefused(`POST /chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${body}`, 413)
  const records = await waitFor(async () => {
    const list = await (await fetch(`${served.url}/seen`)).json()
    return list.length === 1 && list[0].events.includes('disconnect') && list
  }, { message: 'the app to see http.disconnect' })
  const events = records[0].events
  assert.equal(events.at(-1), 'disconnect')
  const received = events.filter((e) => e.startsWith('request:')).reduce((sum, e) => sum + parseInt(e.slice(8)), 0)
  assert.ok(received <= 1000, `the app got at most maxRequestBodySize bytes (${received})`)
})

test('limitConcurrency exceeded → 503 and close; served again once below it', async (t) => {
  const limited = await startNative('native_apps:recorder', { limitConcurrency: 2 })
  t.after(() => limited.close())
  // recorder waits for the rest of the body: two requests with unfinished bodies keep it busy
  const sockets = []
  const busy = [0, 1].map((i) => rawRequest(limited.port, `POST /busy${i} HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n12345`,
    { timeoutMs: 15000, onSocket: (s) => sockets.push(s), until: (d) => parseResponse(d) !== null && d.toString().endsWith('}') }))
  await waitFor(() => limited.server.inFlight === 2, { message: 'two requests in flight' })
  const r = await rawRequest(limited.port, `GET /refused HTTP/1.1\r\n${H}\r\n`)
  const res = parseResponse(r.data)
  assert.equal(res.status, 503)
  assert.deepEqual(res.headers.connection, ['close'])
  assert.ok(r.ended, 'the server closed the connection')
  for (const s of sockets) s.write('67890') // complete both bodies: both are answered
  for (const done of await Promise.all(busy)) assert.equal(parseResponse(done.data)?.status, 200)
  assert.equal((await fetch(`${limited.url}/again`)).status, 200, 'served again below the limit')
})
