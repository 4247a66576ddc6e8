// The push receiver over app.inject(): GitHub, Gitea and GitLab signatures over the raw body, exact status codes,
// refused hooks counted, wrong signatures of the same and of another length both 401.
import t from 'tap';
import { createHmac } from 'node:crypto';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { pushReceiver, HOOK_REJECTED_METRIC } from '../../controller/gitsync/push-receiver.ts';

const SECRET = 'hook-secret-1';
const body = '{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}';
const hmac = (payload: string | Buffer, secret = SECRET) => createHmac('sha256', secret).update(payload).digest('hex');

async function appWith(opts: { fail?: boolean } = {}) {
  const registry = new Registry();
  const synced: string[] = [];
  const app = Fastify();
  await app.register(pushReceiver, {
    registry,
    bodyLimit: 4096,
    secretFor: async (ns, name) => (ns === 'team-a' && name === 'jobs' ? SECRET : ns === 'team-a' && name === 'nosecret' ? '' : undefined),
    requestSync: async (ns, name) => {
      if (opts.fail) throw new Error('apiserver down');
      synced.push(`${ns}/${name}`);
    },
  });
  // A sibling route keeps fastify's JSON parser: the raw-body parser is encapsulated in the plugin.
  app.post('/other', async (req) => ({ parsed: req.body }));
  const rejected = async (reason: string) => (await registry.getSingleMetric(HOOK_REJECTED_METRIC)?.get())?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
  return { app, synced, rejected };
}

const post = (app: Awaited<ReturnType<typeof appWith>>['app'], headers: Record<string, string>, payload: string | Buffer = body, url = '/hooks/team-a/jobs') =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });

t.test('valid signatures request a sync', async (t) => {
  const { app, synced } = await appWith();
  const gh = await post(app, { 'x-hub-signature-256': `sha256=${hmac(body)}`, 'x-github-event': 'push' });
  t.equal(gh.statusCode, 202);
  t.same(gh.json(), { status: 'sync requested', repository: 'team-a/jobs' });
  t.equal((await post(app, { 'x-gitea-signature': hmac(body) })).statusCode, 202, 'gitea');
  t.equal((await post(app, { 'x-gitlab-token': SECRET })).statusCode, 202, 'gitlab');
  // Form-encoded GitHub hooks are signed over the form bytes, which must reach the HMAC untouched.
  const form = `payload=${encodeURIComponent(body)}`;
  t.equal((await post(app, { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': `sha256=${hmac(form)}` }, form)).statusCode, 202, 'form body');
  // Whitespace a JSON re-encoding would drop still counts.
  const spaced = '{ "ref" :  "refs/heads/main" }\n';
  t.equal((await post(app, { 'x-hub-signature-256': `sha256=${hmac(spaced)}` }, spaced)).statusCode, 202, 'raw bytes, not re-encoded JSON');
  t.same(synced, ['team-a/jobs', 'team-a/jobs', 'team-a/jobs', 'team-a/jobs', 'team-a/jobs']);
  t.same((await app.inject({ method: 'POST', url: '/other', payload: { a: 1 } })).json(), { parsed: { a: 1 } }, 'JSON parsing elsewhere untouched');
});

t.test('bad or missing signatures get 401 and are counted', async (t) => {
  const { app, synced, rejected } = await appWith();
  const good = hmac(body);
  const flipped = (good[0] === 'a' ? 'b' : 'a') + good.slice(1);
  const cases: Array<[string, Record<string, string>]> = [
    ['github, same length', { 'x-hub-signature-256': `sha256=${flipped}` }],
    ['github, shorter', { 'x-hub-signature-256': `sha256=${good.slice(0, 10)}` }],
    ['github, longer', { 'x-hub-signature-256': `sha256=${good}00` }],
    ['github, other secret', { 'x-hub-signature-256': `sha256=${hmac(body, 'other')}` }],
    ['github, no prefix', { 'x-hub-signature-256': good }],
    ['gitea, same length', { 'x-gitea-signature': flipped }],
    ['gitea, other length', { 'x-gitea-signature': 'abc' }],
    ['gitlab, same length', { 'x-gitlab-token': SECRET.replace('1', '2') }],
    ['gitlab, other length', { 'x-gitlab-token': `${SECRET}x` }],
    ['gitlab, empty', { 'x-gitlab-token': '' }],
  ];
  for (const [what, headers] of cases) {
    const res = await post(app, headers);
    t.equal(res.statusCode, 401, what);
    t.same(res.json(), { error: 'signature does not match' }, `${what}: body`);
  }
  // The right signature over other bytes.
  t.equal((await post(app, { 'x-hub-signature-256': `sha256=${good}` }, `${body} `)).statusCode, 401, 'tampered body');
  const missing = await post(app, {});
  t.equal(missing.statusCode, 401, 'no signature header');
  t.match(missing.json().error, /missing signature/);
  t.equal(await rejected('invalid'), cases.length + 1);
  t.equal(await rejected('missing'), 1);
  t.same(synced, [], 'nothing synced');
});

t.test('unknown repository 404, oversized body 413, failing sync request 503', async (t) => {
  const { app, rejected } = await appWith();
  const unknown = await post(app, { 'x-hub-signature-256': `sha256=${hmac(body)}` }, body, '/hooks/team-b/jobs');
  t.equal(unknown.statusCode, 404);
  t.equal((await post(app, { 'x-gitlab-token': '' }, body, '/hooks/team-a/nosecret')).statusCode, 404, 'a repository without a secret takes no hooks');
  const big = 'x'.repeat(5000);
  t.equal((await post(app, { 'x-hub-signature-256': `sha256=${hmac(big)}` }, big)).statusCode, 413);
  t.equal(await rejected('invalid'), 0, 'not counted as bad signatures');
  const noType = await app.inject({ method: 'POST', url: '/hooks/team-a/jobs', headers: { 'x-hub-signature-256': `sha256=${hmac(body)}` }, payload: body });
  t.equal(noType.statusCode, 202, 'no content-type: still the raw body');
  t.equal((await app.inject({ method: 'GET', url: '/hooks/team-a/jobs' })).statusCode, 404, 'only POST');

  const failing = await appWith({ fail: true });
  const res = await post(failing.app, { 'x-hub-signature-256': `sha256=${hmac(body)}` });
  t.equal(res.statusCode, 503);
  t.notMatch(res.body, /apiserver down/, 'internal errors are not echoed');
});

t.test('the plugin refuses to start without its dependencies', async (t) => {
  const app = Fastify();
  await t.rejects(async () => {
    await app.register(pushReceiver, { secretFor: async () => SECRET, requestSync: async () => undefined }).ready();
  }, /rejected counter or a registry/);
});
