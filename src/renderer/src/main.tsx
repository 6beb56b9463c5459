import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { createClient } from './api-client.ts'
import { startEventBridge } from './store/event-bridge.ts'
import { useInspector } from './store/index.ts'
import './styles.css'

const { client, transport } = createClient()
startEventBridge(client, useInspector)

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App transport={transport} />
  </StrictMode>
)
