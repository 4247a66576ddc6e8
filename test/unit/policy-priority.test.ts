// PriorityClass names: policy defaults fill them in, unknown names are refused on jobs and policies, values order the queue.
import t from 'tap';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { evaluate, validateTrainingPolicy } from '../../policies/index.ts';
import { missingPriorityClass, priorityValue } from '../../policies/priority.ts';

const classes = [{ name: 'research-high', value: 5000 }, { name: 'research-low', value: 100 }];
const namespace = { name: 'team-a', labels: {} };
const policy: TrainingPolicy = { metadata: { name: 'team-a' }, spec: { defaults: { priorityClassName: 'research-low' } } };
const job = (spec: Partial<TrainingJob['spec']> = {}): TrainingJob => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'j', namespace: 'team-a' }, spec: { image: 'img', ...spec } });

t.test('a policy default fills in the class; a job that names one keeps it', async (t) => {
  t.equal(evaluate({ operation: 'CREATE', object: job(), namespace, policies: [policy], namespaceJobs: [], priorityClasses: classes }).object.spec.priorityClassName, 'research-low');
  t.equal(evaluate({ operation: 'CREATE', object: job({ priorityClassName: 'research-high' }), namespace, policies: [policy], namespaceJobs: [], priorityClasses: classes }).object.spec.priorityClassName, 'research-high');
});

t.test('an unknown class is refused naming the field and the classes that exist', async (t) => {
  const r = evaluate({ operation: 'CREATE', object: job({ priorityClassName: 'urgent' }), namespace, policies: [], namespaceJobs: [], priorityClasses: classes });
  t.strictSame(r.denials.map((d) => [d.reason, d.message]), [['PriorityClassNotFound', 'spec.priorityClassName: PriorityClass "urgent" not found (existing: research-high, research-low)']]);
  t.ok(evaluate({ operation: 'CREATE', object: job({ priorityClassName: 'urgent' }), namespace, policies: [], namespaceJobs: [] }).allowed, 'offline (classes unknown): not checked');
  const old = job({ priorityClassName: 'deleted-since' });
  t.ok(evaluate({ operation: 'UPDATE', object: job({ priorityClassName: 'deleted-since', hyperparameters: { epochs: 3 } }), oldObject: old, namespace, policies: [], namespaceJobs: [], priorityClasses: classes }).allowed, 'an update that keeps the name is not blocked by a deleted class');
  t.notOk(evaluate({ operation: 'UPDATE', object: job({ priorityClassName: 'urgent' }), oldObject: old, namespace, policies: [], namespaceJobs: [], priorityClasses: classes }).allowed, 'changing to an unknown class is refused');
  t.match(missingPriorityClass('f', 'x', [])[0]?.message, /no PriorityClass exists/);
  const many = Array.from({ length: 12 }, (_, i) => ({ name: `c${String(i).padStart(2, '0')}`, value: i }));
  t.match(missingPriorityClass('f', 'x', many)[0]?.message, /c07, … \(12 in all; kubectl get priorityclasses\)/, 'a long list is cut');
});

t.test("a policy's default class must exist", async (t) => {
  const r = validateTrainingPolicy({ metadata: { name: 'p' }, spec: { defaults: { priorityClassName: 'urgent' } } }, classes);
  t.strictSame(r.denials.map((d) => d.message), ['spec.defaults.priorityClassName: PriorityClass "urgent" not found (existing: research-high, research-low)']);
  t.ok(validateTrainingPolicy({ metadata: { name: 'p' }, spec: { defaults: { priorityClassName: 'urgent' } } }).allowed, 'not checked offline');
});

t.test('priority values: the named class, else the lowest global default, else 0', async (t) => {
  t.equal(priorityValue(job({ priorityClassName: 'research-high' }), classes), 5000);
  t.equal(priorityValue(job(), [...classes, { name: 'd1', value: 300, globalDefault: true }, { name: 'd2', value: 200, globalDefault: true }]), 200);
  t.equal(priorityValue(job(), classes), 0);
  t.equal(priorityValue(job({ priorityClassName: 'gone' }), classes), 0);
});

t.test('a policy default applies on create only; an update keeps the class the job has', async (t) => {
  const base = { namespace, policies: [policy], namespaceJobs: [], priorityClasses: classes };
  const old = job();
  t.equal(evaluate({ ...base, operation: 'UPDATE', object: job({ hyperparameters: { epochs: 3 } }), oldObject: old }).object.spec.priorityClassName, undefined, 'a job created before the default keeps its priority');
  const classed = job({ priorityClassName: 'research-high' });
  t.equal(evaluate({ ...base, operation: 'UPDATE', object: job({ hyperparameters: { epochs: 3 } }), oldObject: classed }).object.spec.priorityClassName, 'research-high', 'an apply that leaves it out keeps it');
});
