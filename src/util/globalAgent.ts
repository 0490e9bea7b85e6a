/**
 * Chopsticks installs `global-agent` when it loads: with HTTP(S)_PROXY (or npm's proxy setting)
 * present, every `http.request` of the process, our WebSocket to a local chain and the
 * validator's dendrite included, would go to that proxy, which cannot reach this machine's
 * loopback. Local addresses are added to its NO_PROXY list (the user's own entries are kept).
 */
export function keepLocalTrafficOffProxy(host: string): void {
  const agent = (globalThis as { GLOBAL_AGENT?: { NO_PROXY?: string | null } }).GLOBAL_AGENT;
  if (!agent) return;
  const rules = (agent.NO_PROXY ?? '').split(/[\s,]+/).filter((r) => r.length > 0);
  // global-agent's rule parser reads "host[:port]"; a bare IPv6 address cannot be written there.
  for (const local of ['localhost', '127.0.0.1', host]) if (!local.includes(':') && !rules.includes(local)) rules.push(local);
  agent.NO_PROXY = rules.join(',');
}

/**
 * Makes Chopsticks' `global-agent` proxy nothing: the process then connects as the daemons do
 * without Chopsticks loaded (they never read HTTP(S)_PROXY), so a rehearsal reaches the chain,
 * the miners and the RPCs by the same paths as the validator it rehearses.
 */
export function proxyNothing(): void {
  const agent = (globalThis as { GLOBAL_AGENT?: { NO_PROXY?: string | null } }).GLOBAL_AGENT;
  if (agent) agent.NO_PROXY = '*';
}
