'use strict'
// --env-file: KEY=VALUE lines (python-dotenv's common subset) loaded into process.env before the
// interpreter starts, so the app's os.environ sees them. Variables already set are kept, like
// python-dotenv's default (override=False).
const fs = require('node:fs')

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/

/** Parses dotenv text into [name, value] pairs; throws naming the first bad line. */
function parseEnv (text, file) {
  const pairs = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (/^\s*(#|$)/.test(line)) continue
    const m = LINE.exec(line)
    if (!m) throw new Error(`${file}:${i + 1}: expected NAME=VALUE, got ${JSON.stringify(line)}`)
    let value = m[2]
    const quote = value[0]
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1)
      if (quote === '"') value = value.replace(/\\([nrt"\\])/g, (_, c) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c)
    } else {
      value = value.replace(/\s+#.*$/, '') // an inline comment after an unquoted value
    }
    pairs.push([m[1], value])
  }
  return pairs
}

function loadEnvFile (file) {
  const text = fs.readFileSync(file, 'utf8') // an unreadable file throws with its path
  for (const [name, value] of parseEnv(text, file)) {
    if (process.env[name] === undefined) process.env[name] = value
  }
}

module.exports = { loadEnvFile, parseEnv }
