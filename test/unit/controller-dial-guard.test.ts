// The loopback-only dial guard: which hosts pass, and that a refusal is reported and thrown before any dial.
import t from 'tap';
import { isLoopbackCidr, isLoopbackHost, loopbackOnly, NonLoopbackDialError } from '../../kube/dial-guard.ts';

t.test('loopback hosts', async (t) => {
  for (const h of ['127.0.0.1', '127.128.3.7', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) t.ok(isLoopbackHost(h), h);
  for (const h of ['10.244.0.5', '10.0.0.1', '172.16.0.1', '192.168.1.1', '8.8.8.8', '128.0.0.1', '::ffff:10.0.0.1', 'fe80::1', '::', '0.0.0.0', 'git.example.com', 'localhost.example.com', '']) t.notOk(isLoopbackHost(h), h || '(empty)');
});

t.test('loopback ranges', async (t) => {
  for (const c of ['127.0.0.0/8', '127.64.0.0/24', '127.128.0.0/16', '::1/128']) t.ok(isLoopbackCidr(c), c);
  for (const c of ['10.0.0.0/24', '127.0.0.0/7', '0.0.0.0/0', '::/0', '::1/64', '127.0.0.1', 'nonsense/8']) t.notOk(isLoopbackCidr(c), c);
});

t.test('loopbackOnly passes loopback URLs and reports then throws for any other', async (t) => {
  const reported: NonLoopbackDialError[] = [];
  const guard = loopbackOnly((err) => reported.push(err));
  guard('http://127.128.0.9:8000/metrics', 'rank 0 metrics');
  guard('http://[::1]:8000/metrics', 'rank 0 metrics');
  guard('http://localhost:3000/jobs.git', 'JobRepository a/b');
  t.same(reported, [], 'nothing reported for loopback');
  t.throws(() => guard('http://10.244.0.7:8000/metrics', 'rank 0 metrics'), { code: 'NonLoopbackDial', message: /refused to dial http:\/\/10\.244\.0\.7:8000\/metrics \(rank 0 metrics\)/ });
  t.throws(() => guard('https://git.example.com/ml/jobs.git', 'JobRepository team-b/jobs'), NonLoopbackDialError);
  t.same(reported.map((e) => [e.target, e.purpose]), [['http://10.244.0.7:8000/metrics', 'rank 0 metrics'], ['https://git.example.com/ml/jobs.git', 'JobRepository team-b/jobs']]);
});

t.test('a refused URL is reported without the credentials it carries', async (t) => {
  const reported: NonLoopbackDialError[] = [];
  const guard = loopbackOnly((err) => reported.push(err));
  const err = (() => {
    try {
      guard('https://bot:s3cr3t-token@git.example.com/ml/jobs.git', 'JobRepository team-b/jobs');
    } catch (e) {
      return e as NonLoopbackDialError;
    }
    return undefined;
  })();
  t.equal(err?.target, 'https://git.example.com/ml/jobs.git');
  t.notMatch(err?.message ?? '', /s3cr3t|bot:/, 'the message names the host, not the token');
  t.throws(() => guard('not a url', 'rank 0 metrics'), { message: /refused to dial <unparsable url>/ });
});
