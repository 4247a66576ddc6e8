// Per-job gauges: one trainingjob_state series per job (its current state), and none left after the job is forgotten.
import t from 'tap';
import { createControllerMetrics, forgetJob, recordJobGauges } from '../../controller/metrics.ts';

const job = { namespace: 'ml', name: 'resnet', activeWorkers: 2, gpus: 4 };

async function stateSeries(m: ReturnType<typeof createControllerMetrics>): Promise<string[]> {
  return (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('trainingjob_state{'));
}

t.test('trainingjob_state holds only the current state, and moves with it', async (t) => {
  const m = createControllerMetrics({ defaultMetrics: false });
  recordJobGauges(m, { ...job, state: 'Initializing' });
  t.same(await stateSeries(m), ['trainingjob_state{namespace="ml",name="resnet",state="Initializing"} 1']);
  recordJobGauges(m, { ...job, state: 'Running' });
  recordJobGauges(m, { ...job, name: 'bert', state: 'Suspended' });
  t.same(await stateSeries(m), ['trainingjob_state{namespace="ml",name="resnet",state="Running"} 1', 'trainingjob_state{namespace="ml",name="bert",state="Suspended"} 1'], 'the old state is gone, other jobs untouched');
  forgetJob(m, 'ml', 'resnet');
  t.same(await stateSeries(m), ['trainingjob_state{namespace="ml",name="bert",state="Suspended"} 1'], 'a forgotten job has no series left');
  t.notMatch(await m.registry.metrics(), /name="resnet"/, 'nor any other per-job series');
});
