// Bundles the self-hosted GraphiQL (web/graphiql/) with esbuild into public/graphiql/:
//   index.html, main.js, main.css, fonts/*, workers/{editor,json,graphql}.worker.js
// Nothing is loaded from a CDN at run time. src/server/graphiql.ts serves the result.
//
// Usage: npm run build:ui   (also meant to run as a postinstall step)
// Builds into a temporary folder and swaps it in, so a failed build never leaves a
// half-written bundle behind. Exits non-zero on any build error. When run as
// postinstall of an install without devDependencies (esbuild/graphiql absent), it
// prints a notice and exits 0 so production installs are not broken.
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const srcDir = path.join(root, 'web', 'graphiql')
const outDir = path.join(root, 'public', 'graphiql')
const tmpDir = path.join(root, 'public', `.graphiql-build-${process.pid}`)
const asPostinstall = process.env.npm_lifecycle_event === 'postinstall'

async function main() {
  const started = process.hrtime.bigint()
  const require = createRequire(import.meta.url)
  let esbuild
  try {
    require.resolve('graphiql/package.json')
    esbuild = await import('esbuild')
  } catch {
    const msg = 'esbuild/graphiql are not installed (devDependencies); GraphiQL UI not built.'
    if (asPostinstall) {
      console.warn(`build-graphiql: ${msg} Install devDependencies, then run \`npm run build:ui\`.`)
      return
    }
    throw new Error(msg)
  }

  const common = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'error', // esbuild prints errors itself; warnings from dependencies are noise here
    absWorkingDir: root,
    define: { 'process.env.NODE_ENV': '"production"' },
  }

  await rm(tmpDir, { recursive: true, force: true })
  await mkdir(tmpDir, { recursive: true })
  try {
    await Promise.all([
      esbuild.build({
        ...common,
        entryPoints: { main: path.join(srcDir, 'main.tsx') },
        outdir: tmpDir,
        jsx: 'automatic',
        loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.eot': 'file', '.svg': 'file' },
        assetNames: 'fonts/[name]-[hash]',
      }),
      esbuild.build({
        ...common,
        entryPoints: {
          'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
          'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
          'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
        },
        outdir: path.join(tmpDir, 'workers'),
      }),
      cp(path.join(srcDir, 'index.html'), path.join(tmpDir, 'index.html')),
    ])
    await rm(outDir, { recursive: true, force: true })
    await rename(tmpDir, outDir)
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true })
    throw err
  }

  const { files, bytes } = await du(outDir)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  console.log(
    `build-graphiql: ${path.relative(root, outDir)}/ (${files} files, ${(bytes / 1048576).toFixed(1)} MiB) in ${(ms / 1000).toFixed(1)} s`,
  )
}

async function du(dir) {
  let files = 0
  let bytes = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      const sub = await du(p)
      files += sub.files
      bytes += sub.bytes
    } else {
      files += 1
      bytes += (await stat(p)).size
    }
  }
  return { files, bytes }
}

main().catch((err) => {
  // esbuild has already printed its own diagnostics; keep ours to one line
  const message =
    err && Array.isArray(err.errors) && err.errors.length
      ? `${err.errors.length} esbuild error(s)`
      : (err?.message ?? String(err))
  console.error(`build-graphiql: failed: ${message}`)
  process.exitCode = 1
})
