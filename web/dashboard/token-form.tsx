import { useState, type FormEvent } from 'react'

/** Asks for an API token; the dashboard keeps it in sessionStorage (this tab only). */
export function TokenForm({ onToken, refusal }: { onToken(token: string): void; refusal: string | null }) {
  const [value, setValue] = useState('')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const token = value.trim().replace(/^Bearer\s+/i, '')
    if (token) onToken(token)
  }
  return (
    <form className="token-form" onSubmit={submit}>
      <h1>Lifecycle Gateway · Live dashboard</h1>
      <label htmlFor="token">API token (needs read scopes; retry and holds need provisioning scopes)</label>
      <input
        id="token"
        name="token"
        type="password"
        autoComplete="off"
        value={value}
        onChange={(event) => setValue(event.target.value)}
        placeholder="paste your API token"
      />
      <button type="submit">Open dashboard</button>
      {refusal && (
        <p className="error" role="alert">
          {refusal}
        </p>
      )}
      <p className="hint">The token stays in this tab (sessionStorage) and is sent to this server only.</p>
    </form>
  )
}
