'use strict'
// Response headers reach the client as the app sent them: several Set-Cookie headers and
// duplicate headers kept separate and in order, latin-1 values byte for byte, status codes.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { request } = require('undici')
const { startServer, rawRequest, parseResponse } = require('./helpers')

let served

before(async () => {
  served = await startServer('raw_apps:headers_app')
})

after(async () => {
  await served?.close()
})

async function rawGet (target) {
  const { data } = await rawRequest(served.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
  const res = parseResponse(data)
  assert.ok(res, `no response in ${JSON.stringify(data.toString('latin1'))}`)
  return res
}

test('two Set-Cookie headers arrive as two separate header lines, in order', async () => {
  const res = await rawGet('/')
  assert.equal(res.status, 200)
  assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
})

test('fetch sees both cookies through getSetCookie()', async () => {
  const res = await fetch(`${served.url}/`)
  assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/'])
  assert.equal(await res.text(), 'body')
})

test('duplicate headers are kept as separate lines in the order the app sent them', async () => {
  const res = await rawGet('/')
  assert.deepEqual(res.headers['x-dup'], ['1', '2'])
  const order = res.rawHeaders.map(([name]) => name.toLowerCase()).filter((n) => ['content-type', 'content-length', 'set-cookie', 'x-dup', 'x-latin1'].includes(n))
  assert.deepEqual(order, ['content-type', 'content-length', 'set-cookie', 'set-cookie', 'x-dup', 'x-dup', 'x-latin1'])
})

test('undici keeps the duplicate headers as an array', async () => {
  const { headers, body } = await request(`${served.url}/`)
  await body.text()
  assert.deepEqual(headers['x-dup'], ['1', '2'])
  assert.deepEqual(headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
})

test('a latin-1 header value (b"caf\\xe9") is sent as the same bytes on the wire', async () => {
  const { data } = await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  const expectedLine = Buffer.concat([Buffer.from('\r\nx-latin1: caf'), Buffer.from([0xe9]), Buffer.from('\r\n')])
  assert.ok(data.indexOf(expectedLine) >= 0, `no x-latin1: caf\\xe9 line in ${JSON.stringify(data.toString('latin1'))}`)
  // and not the UTF-8 encoding of é (C3 A9)
  assert.equal(data.indexOf(Buffer.from('caf\u00c3\u00a9', 'latin1')), -1)
})

test('the status code the app chose is used, with the standard reason phrase', async () => {
  for (const [status, reason] of [[201, 'Created'], [404, 'Not Found'], [418, 'I\'m a Teapot'], [503, 'Service Unavailable']]) {
    const res = await rawGet(`/?status=${status}`)
    assert.equal(res.status, status)
    assert.equal(res.statusLine, `HTTP/1.1 ${status} ${reason}`)
    assert.equal(res.body.toString(), 'body')
  }
})

test('the content-length the app sent is the one on the wire, with no chunked framing', async () => {
  const res = await rawGet('/')
  assert.deepEqual(res.headers['content-length'], ['4'])
  assert.equal(res.headers['transfer-encoding'], undefined)
  assert.equal(res.body.toString(), 'body')
})
