// Bundles the self-hosted browser pages with esbuild into public/:
//   public/graphiql/   (web/graphiql/)  index.html, main.js, main.css, fonts/*, workers/{editor,json,graphql}.worker.js
//   public/dashboard/  (web/dashboard/) index.html, main.js, main.css
// Nothing is loaded from a CDN at run time. src/server/graphiql.ts and src/server/dashboard.ts serve them.
//
// Usage: npm run build:ui   (also meant to run as a postinstall step)
// Each page builds into a temporary folder that is then swapped in, so a failed build never
// leaves a half-written bundle behind. Exits non-zero on any build error. When run as
// postinstall of an install without devDependencies (esbuild/graphiql absent), it prints a
// notice and exits 0 so production installs are not broken.
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const asPostinstall = process.env.npm_lifecycle_event === 'postinstall'

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

/** What each page bundles into its temporary folder (web/<name>/main.tsx and index.html, plus extras). */
const pages = {
  graphiql: (esbuild, srcDir, outDir) => [
    esbuild.build({
      ...common,
      entryPoints: { main: path.join(srcDir, 'main.tsx') },
      outdir: outDir,
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
      outdir: path.join(outDir, 'workers'),
    }),
  ],
  dashboard: (esbuild, srcDir, outDir) => [
    esbuild.build({
      ...common,
      entryPoints: { main: path.join(srcDir, 'main.tsx') },
      outdir: outDir,
      jsx: 'automatic',
    }),
  ],
}

async function buildPage(esbuild, name) {
  const started = process.hrtime.bigint()
  const srcDir = path.join(root, 'web', name)
  const outDir = path.join(root, 'public', name)
  const tmpDir = path.join(root, 'public', `.${name}-build-${process.pid}`)
  await rm(tmpDir, { recursive: true, force: true })
  await mkdir(tmpDir, { recursive: true })
  try {
    await Promise.all([
      ...pages[name](esbuild, srcDir, tmpDir),
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
    `build-ui: ${path.relative(root, outDir)}/ (${files} files, ${(bytes / 1048576).toFixed(1)} MiB) in ${(ms / 1000).toFixed(1)} s`,
  )
}

async function main() {
  const require = createRequire(import.meta.url)
  let esbuild
  try {
    require.resolve('graphiql/package.json')
    esbuild = await import('esbuild')
  } catch {
    const msg = 'esbuild/graphiql are not installed (devDependencies); the browser pages are not built.'
    if (asPostinstall) {
      console.warn(`build-ui: ${msg} Install devDependencies, then run \`npm run build:ui\`.`)
      return
    }
    throw new Error(msg)
  }
  await Promise.all(Object.keys(pages).map((name) => buildPage(esbuild, name)))
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
  console.error(`build-ui: failed: ${message}`)
  process.exitCode = 1
})
