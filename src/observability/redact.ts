/**
 * Secrets never reach a log line, an error message or a status page.
 * RPC URLs often carry API keys in their path or query (Alchemy, Infura) or
 * credentials in their userinfo: `redactUrl` keeps scheme, host and port only.
 */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const hasSecretPart = u.username !== '' || u.password !== '' || (u.pathname !== '/' && u.pathname !== '') || u.search !== '';
    return `${u.protocol}//${u.host}${hasSecretPart ? '/…' : ''}`;
  } catch {
    return '<invalid url>';
  }
}

const HEX_SECRET = /0x[0-9a-fA-F]{64}(?![0-9a-fA-F])/g;

/** Removes 32-byte hex strings (private keys, seeds) and URLs' secret parts from free text. */
export function redactText(text: string): string {
  return text.replace(HEX_SECRET, '0x<redacted>').replace(/\b(https?|wss?|rediss?):\/\/[^\s"'<>]+/g, (m) => redactUrl(m));
}
