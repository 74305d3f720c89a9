'use strict'
// `node app_floor.js APP SECONDS [loop]`: bench/apps/app_floor.py measured on node-asgi's loop
// thread (the embedded libpython), through handleRequest(). Prints its {rps, us, cpu} JSON.
const path = require('node:path')
const { PythonHandler } = require('..')

async function main () {
  const [name, seconds, loop = 'asyncio'] = process.argv.slice(2)
  const handler = new PythonHandler({ app: 'app_floor:app', appDir: path.join(__dirname, 'apps'), loop })
  try {
    const res = await handler.handleRequest({ url: `/?app=${encodeURIComponent(name)}&seconds=${Number(seconds)}` })
    if (res.status !== 200) throw new Error(`app_floor answered ${res.status}: ${res.body}`)
    process.stdout.write(res.body.toString() + '\n')
  } finally {
    await handler.close()
  }
}
main().catch((err) => { console.error(err); process.exit(1) })
