// rotationPlan is pure: stored facts + an injected time + the lifetimes table decide what is replaced.
import t from 'tap';
import { createCertBundle, factsOf, rotateCertBundle } from '../../certs/bundle.ts';
import { DEFAULT_LIFETIMES, resolveLifetimes, daysToMs } from '../../certs/lifetimes.ts';
import { serviceNames } from '../../certs/names.ts';
import { rotationPlan } from '../../certs/rotation-plan.ts';
import { CertError } from '../../certs/errors.ts';

const issued = new Date('2026-01-01T00:00:00Z');
const lifetimes = resolveLifetimes();
const names = serviceNames();
const bundle = createCertBundle({ names, lifetimes, now: issued });
const facts = factsOf(bundle);
const servingExpiry = facts.serving.notAfter.getTime();
const daysBeforeServingExpiry = (d: number): Date => new Date(servingExpiry - daysToMs(d));

t.test('nothing stored: issue a CA and a serving certificate', async (t) => {
  t.same(rotationPlan(undefined, issued, lifetimes), { rotateCA: true, rotateServing: true, reason: 'no certificates are stored' });
});

t.test('a fresh bundle needs nothing', async (t) => {
  const plan = rotationPlan(facts, issued, lifetimes, names);
  t.equal(plan.rotateServing, false);
  t.equal(plan.rotateCA, false);
  t.match(plan.reason, /valid for 36[45] more days/);
});

t.test('20 days before expiry the serving certificate rotates, 60 days before it does not', async (t) => {
  const at20 = rotationPlan(facts, daysBeforeServingExpiry(20), lifetimes, names);
  t.same({ ...at20, reason: undefined }, { rotateServing: true, rotateCA: false, reason: undefined });
  t.match(at20.reason, /serving certificate expires in 20 days \(rotated 30 days ahead\)/);
  const at60 = rotationPlan(facts, daysBeforeServingExpiry(60), lifetimes, names);
  t.equal(at60.rotateServing, false);
  t.match(at60.reason, /valid for 60 more days/);
  t.equal(rotationPlan(facts, daysBeforeServingExpiry(30.01), lifetimes).rotateServing, false, 'just outside the lookahead');
  t.equal(rotationPlan(facts, daysBeforeServingExpiry(29.99), lifetimes).rotateServing, true, 'just inside the lookahead');
});

t.test('an expired serving certificate rotates', async (t) => {
  const plan = rotationPlan(facts, new Date(servingExpiry + daysToMs(3)), lifetimes);
  t.equal(plan.rotateServing, true);
  t.match(plan.reason, /expires in -3 days/);
});

t.test('the CA rotates well ahead of its own expiry, and takes the serving certificate with it', async (t) => {
  const caExpiry = facts.ca.notAfter.getTime();
  const inside = rotationPlan(facts, new Date(caExpiry - daysToMs(DEFAULT_LIFETIMES.caLookaheadDays - 1)), lifetimes);
  t.same({ rotateCA: inside.rotateCA, rotateServing: inside.rotateServing }, { rotateCA: true, rotateServing: true });
  t.match(inside.reason, /the CA expires in 39\d days \(rotated 400 days ahead\)/);
  // Pretend the serving certificate was just renewed, so only the CA's age matters.
  const outside = rotationPlan({ ...facts, serving: { ...facts.serving, notAfter: new Date(caExpiry) } }, new Date(caExpiry - daysToMs(DEFAULT_LIFETIMES.caLookaheadDays + 1)), lifetimes);
  t.equal(outside.rotateCA, false);
});

t.test('a serving certificate from another CA rotates', async (t) => {
  const other = createCertBundle({ names, lifetimes, now: issued });
  const mixed = factsOf({ ...bundle, tlsCertPem: other.tlsCertPem, tlsKeyPem: other.tlsKeyPem });
  t.equal(mixed.servingSignedByCA, false);
  const plan = rotationPlan(mixed, issued, lifetimes);
  t.same({ rotateServing: plan.rotateServing, rotateCA: plan.rotateCA }, { rotateServing: true, rotateCA: false });
  t.match(plan.reason, /not signed by the current CA/);
});

t.test('a wanted name the certificate lacks rotates it; IPv6 spellings compare equal', async (t) => {
  const wider = serviceNames(undefined, { dnsNames: ['webhook.example.com'] });
  const plan = rotationPlan(facts, issued, lifetimes, wider);
  t.equal(plan.rotateServing, true);
  t.match(plan.reason, /lacks webhook\.example\.com/);
  const v6 = serviceNames(undefined, { ipAddresses: ['::1'] });
  const withV6 = createCertBundle({ names: v6, lifetimes, now: issued });
  t.equal(rotationPlan(factsOf(withV6), issued, lifetimes, v6).rotateServing, false, '::1 matches 0:0:0:0:0:0:0:1 in the certificate');
});

t.test('after rotating as planned, the plan is satisfied', async (t) => {
  const now = daysBeforeServingExpiry(10);
  const plan = rotationPlan(facts, now, lifetimes, names);
  const rotated = rotateCertBundle(bundle, plan, { names, lifetimes, now });
  t.equal(rotationPlan(factsOf(rotated), now, lifetimes, names).rotateServing, false);
  t.equal(rotated.caCertPem, bundle.caCertPem, 'the CA is kept');
  t.not(rotated.tlsCertPem, bundle.tlsCertPem);
});

t.test('the lifetimes table refuses settings that would loop or outlive the CA', async (t) => {
  t.throws(() => resolveLifetimes({ servingLookaheadDays: 400 }), { code: 'InvalidLifetimes', message: /servingLookaheadDays 400 must be less than servingDays 365/ });
  t.throws(() => resolveLifetimes({ caLookaheadDays: 100 }), { code: 'InvalidLifetimes', message: /caLookaheadDays 100 must exceed servingDays 365/ });
  t.throws(() => resolveLifetimes({ checkIntervalMs: 0 }), CertError);
  t.same(resolveLifetimes({ servingDays: 90, servingLookaheadDays: 15 }), { ...DEFAULT_LIFETIMES, servingDays: 90, servingLookaheadDays: 15 });
});
