// What a Git host sends on push: a GitHub-style signed webhook to the controller's push receiver, so the sync starts now.
import { createHmac } from 'node:crypto';

/** POSTs the hook for namespace/repo and returns the receiver's status code (202: sync queued). */
export async function sendPushHook(hooksUrl: string, namespace: string, repo: string, secret: string): Promise<number> {
  const body = JSON.stringify({ ref: 'refs/heads/main' });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const res = await fetch(`${hooksUrl}/hooks/${namespace}/${repo}`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature } });
  await res.arrayBuffer();
  return res.status;
}

/** sendPushHook, which must be accepted (202). */
export async function pushHookAccepted(hooksUrl: string, namespace: string, repo: string, secret: string): Promise<void> {
  const status = await sendPushHook(hooksUrl, namespace, repo, secret);
  if (status !== 202) throw new Error(`push hook for ${namespace}/${repo} answered ${status}`);
}
