'use strict'
// ASGI 2 (double-callable) apps are detected and served.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startServer } = require('./helpers')

test('an ASGI 2 class app is served over HTTP', async (t) => {
  const served = await startServer('raw_apps:asgi2_app')
  t.after(() => served.close())
  const res = await fetch(`${served.url}/anything`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'asgi2')
})

test('an ASGI 2 app is served through handleRequest() repeatedly (a new instance per scope)', async (t) => {
  const served = await startServer('raw_apps:asgi2_app')
  t.after(() => served.close())
  for (let i = 0; i < 3; i++) {
    const res = await served.handler.handleRequest({ url: `/${i}` })
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), 'asgi2')
  }
})

for (const lifespan of ['auto', 'on']) {
  test(`an ASGI 2 app returning at once for the lifespan scope does not hang start() (lifespan ${lifespan})`, async (t) => {
    // uvicorn: an app that returns from the lifespan scope without raising ends the protocol,
    // and startup counts as complete.
    let timer
    const served = await Promise.race([
      startServer('raw_apps:asgi2_app', { lifespan }),
      new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('start() hung')), 5000) })
    ])
    clearTimeout(timer)
    t.after(() => served.close())
    assert.equal((await served.handler.handleRequest({ url: '/' })).status, 200)
  })
}
