// The live lifecycle dashboard. Bundled by scripts/build-ui.mjs into public/dashboard/ and
// served by src/server/dashboard.ts at GET /dashboard. It uses the public GraphQL API only:
// queries and mutations over POST /graphql, the lifecycleEvents subscription over graphql-ws.
// Nothing loads from a CDN; the page's CSP allows this origin only.
import { useCallback, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { Dashboard } from './dashboard'
import { tokenStore } from './graphql'
import { TokenForm } from './token-form'
import './style.css'

function App() {
  const [token, setToken] = useState(tokenStore.read)
  const [refusal, setRefusal] = useState<string | null>(null)
  const accept = useCallback((value: string) => {
    tokenStore.write(value)
    setRefusal(null)
    setToken(value)
  }, [])
  const forget = useCallback((reason: string | null) => {
    tokenStore.clear()
    setRefusal(reason)
    setToken(null)
  }, [])
  const onRefused = useCallback((reason: string) => forget(`The server refused the token: ${reason}`), [forget])
  const onSignOut = useCallback(() => forget(null), [forget])
  return token ? (
    <Dashboard token={token} onRefused={onRefused} onSignOut={onSignOut} />
  ) : (
    <TokenForm onToken={accept} refusal={refusal} />
  )
}

createRoot(document.getElementById('root')!).render(<App />)
