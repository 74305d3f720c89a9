'use strict'
// Handlers that are closed and dropped give their descriptors back: creating many in one process
// does not grow its open file descriptors (each handler owns an eventfd and an asyncio loop).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const script = `
const fs = require('fs')
const { PythonHandler } = require(${JSON.stringify(path.join(__dirname, '..'))})
const count = () => fs.readdirSync('/proc/self/fd').length
const settle = async () => { for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 100)) } }
;(async () => {
  const cycle = async () => {
    const h = new PythonHandler({ app: 'raw_apps:hello', appDir: ${JSON.stringify(path.join(__dirname, '..', 'fixtures'))}, logger: { error () {}, warn () {}, info () {} } })
    await h.start()
    await h.handleRequest({ url: '/' })
    await h.close()
  }
  for (let i = 0; i < 10; i++) await cycle()
  await settle()
  const before = count()
  for (let i = 0; i < 100; i++) await cycle()
  await settle()
  process.stdout.write(JSON.stringify({ before, after: count() }))
})()
`

test('a hundred handlers started and closed in turn leave no descriptors behind', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60000 })
  const { before, after } = JSON.parse(out)
  assert.ok(after - before <= 15, `descriptors grew from ${before} to ${after}`)
})
