/**
 * A local MCP server protected by OAuth, for the README's MCP example: the official SDK's
 * McpServer (tools `whoami` and `write`) behind a real authorization server (oidc-provider,
 * dynamic client registration, any login and password). The same server the end-to-end tests use.
 *
 *   npx tsx scripts/mcp-example-server.ts
 */
import { startMcpServer } from '../test/helpers/mcp-server.js'

const server = await startMcpServer({ dcr: true })
console.log(`MCP server:           ${server.url}`)
console.log(`authorization server: ${server.issuer}  (sign in with any login and password)`)
console.log('Ctrl-C to stop')
process.on('SIGINT', () => void server.close().then(() => process.exit(0)))
