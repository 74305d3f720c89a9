'use strict'
// SystemExit and KeyboardInterrupt raised by an app while serving are contained like any
// exception: the client gets 500, 'appError' reports them, and the process and the handler
// keep serving.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startServer, waitFor } = require('./helpers')

const servers = {}
const appErrors = {}

before(async () => {
  for (const name of ['system_exit', 'keyboard_interrupt', 'hello']) {
    servers[name] = await startServer(`raw_apps:${name}`)
    appErrors[name] = []
    servers[name].handler.on('appError', (error) => appErrors[name].push(error))
  }
})

after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()))
})

for (const [name, type] of [['system_exit', 'SystemExit'], ['keyboard_interrupt', 'KeyboardInterrupt']]) {
  test(`${type} in an app: 500, an appError of type ${type}, and the next requests are served`, async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${servers[name].url}/${i}`)
      assert.equal(res.status, 500)
      assert.equal(await res.text(), 'Internal Server Error')
    }
    await waitFor(() => appErrors[name].length >= 3, { message: '3 appError events' })
    assert.equal(appErrors[name][0].type, type)
    assert.match(appErrors[name][0].traceback, new RegExp(type))
    assert.equal(servers[name].handler.state, 'started')
    // the interpreter and the other handlers of the process are unaffected
    const ok = await fetch(`${servers.hello.url}/`)
    assert.equal(ok.status, 200)
    assert.equal(await ok.text(), 'Hello, world!')
  })
}

test('SystemExit and KeyboardInterrupt under concurrency do not stop the handler', async () => {
  const urls = []
  for (let i = 0; i < 20; i++) {
    urls.push(`${servers.system_exit.url}/c${i}`, `${servers.keyboard_interrupt.url}/c${i}`, `${servers.hello.url}/c${i}`)
  }
  const statuses = await Promise.all(urls.map(async (url) => {
    const res = await fetch(url)
    await res.arrayBuffer()
    return res.status
  }))
  assert.deepEqual(statuses, urls.map((url) => url.startsWith(servers.hello.url) ? 200 : 500))
  for (const name of ['system_exit', 'keyboard_interrupt', 'hello']) assert.equal(servers[name].handler.state, 'started')
  assert.equal(process.exitCode ?? 0, 0)
})
