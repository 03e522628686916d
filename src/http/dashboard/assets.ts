/**
 * @module http/dashboard/assets
 * Everything the dashboard page loads, as strings compiled into `dist/` (no file is read at run
 * time, and no CDN is involved): the HTML shell, the style sheet and the script.
 */
export { APP_JS } from './app-js.js'
export { APP_CSS, SHELL_HTML } from './shell.js'
