'use strict'
// A body that does not match the app's Content-Length closes the connection: too long → exactly
// the declared bytes then close (never an extra byte); too short → what was sent, then close.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { request } = require('undici')
const { startServer, rawRequest, parseResponse } = require('./helpers')

let served

before(async () => {
  served = await startServer('raw_apps:content_length_mismatch')
})

after(async () => {
  await served?.close()
})

/** GET on a keep-alive connection, followed by a pipelined second request that must not be answered. */
async function rawGet (path) {
  const result = await rawRequest(served.port, [
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    'GET /unknown HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
  ], { gapMs: 100, timeoutMs: 3000 })
  const res = parseResponse(result.data)
  assert.ok(res, `no response in ${JSON.stringify(result.data.toString('latin1'))}`)
  return { ...result, res }
}

for (const path of ['/too-long', '/too-long-chunks']) {
  test(`${path}: exactly the declared 5 bytes, then the connection is closed`, async () => {
    const { res, ended, timedOut } = await rawGet(path)
    assert.equal(res.status, 200)
    assert.deepEqual(res.headers['content-length'], ['5'])
    assert.ok(ended && !timedOut, 'the connection was not closed')
    assert.equal(res.body.toString('latin1'), '01234', 'bytes beyond the declared Content-Length were sent')
  })
}

test('/too-short: the 5 bytes sent, then the connection is closed (no keep-alive reuse)', async () => {
  const { res, ended, timedOut } = await rawGet('/too-short')
  assert.equal(res.status, 200)
  assert.deepEqual(res.headers['content-length'], ['10'])
  assert.ok(ended && !timedOut, 'the connection was left open with a short body')
  assert.equal(res.body.toString('latin1'), '01234')
})

test('/too-short: an HTTP client sees an incomplete body error', async () => {
  const { statusCode, body } = await request(`${served.url}/too-short`)
  assert.equal(statusCode, 200)
  await assert.rejects(body.text())
})

test('/too-long: an HTTP client reads exactly the declared bytes', async () => {
  const { statusCode, body } = await request(`${served.url}/too-long`)
  assert.equal(statusCode, 200)
  assert.equal(await body.text(), '01234')
})

test('the mismatch is logged and the server keeps serving', async () => {
  assert.match(served.logger.text(), /Response content longer than Content-Length/)
  assert.match(served.logger.text(), /Response content shorter than Content-Length/)
  const res = await fetch(`${served.url}/anything`)
  assert.equal(res.status, 404)
  assert.equal(await res.text(), 'unknown content_length_mismatch path')
})
