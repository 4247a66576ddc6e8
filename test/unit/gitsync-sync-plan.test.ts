// The pure decisions of a git sync: inventory carry-over, prune safety, intervals, and the inventory's wire format.
import t from 'tap';
import { formatInventoryEntry, parseInventory } from '../../api/jobrepository.ts';
import { MAX_PRUNE_SHARE, nextInventory, parseInterval, prunePlan } from '../../controller/gitsync/sync-plan.ts';

const revision = 'c0ffee0000000000000000000000000000000000';

t.test('inventory entries: one string each, read back unchanged', async (t) => {
  const entries = [{ name: 'resnet', file: 'jobs/resnet.yaml' }, { name: 'odd', file: 'jobs/with space/and=sign #1.yaml' }, { name: 'no-file' }];
  const wire = entries.map(formatInventoryEntry);
  t.same(wire, ['resnet jobs/resnet.yaml', 'odd jobs/with space/and=sign #1.yaml', 'no-file']);
  t.same(parseInventory(wire), entries, 'a file path may hold spaces: only the first one separates');
  t.same(parseInventory(undefined), []);
});

t.test('entries that are not our strings are skipped, not guessed', async (t) => {
  t.same(parseInventory([{}, { name: 'x' }, null, '', 'a a.yaml']), [{ name: 'a', file: 'a.yaml' }], 'the {} left of an earlier version\'s objects, and junk');
});

t.test('nextInventory keeps untouched files, replaces touched ones and sorts', async (t) => {
  const previous = {
    inventory: [{ name: 'a', file: 'a.yaml' }, { name: 'b', file: 'b.yaml' }, { name: 'c', file: 'c.yaml' }],
    errors: [{ file: 'b.yaml', line: 3, message: 'old error' }, { file: 'c.yaml', message: 'still broken' }],
  };
  const next = nextInventory(previous, [{ file: 'b.yaml', jobs: [{ name: 'b2', file: 'b.yaml' }], errors: [] }, { file: 'a.yaml', jobs: [], errors: [] }], new Set(['a.yaml', 'b.yaml']), false);
  t.same(next.inventory, [{ name: 'b2', file: 'b.yaml' }, { name: 'c', file: 'c.yaml' }], 'a left with its file, b renamed its job, c untouched');
  t.same(next.errors, [{ file: 'c.yaml', message: 'still broken' }], 'errors of re-read files are replaced');

  const full = nextInventory(previous, [{ file: 'z.yaml', jobs: [{ name: 'z', file: 'z.yaml' }, { name: 'a', file: 'z.yaml' }], errors: [{ file: 'z.yaml', line: 9, message: 'm' }] }], new Set(['z.yaml']), true);
  t.same(full.inventory, [{ name: 'a', file: 'z.yaml' }, { name: 'z', file: 'z.yaml' }], 'a full sync starts from nothing');
  t.same(full.errors, [{ file: 'z.yaml', line: 9, message: 'm' }]);

  const dup = nextInventory({ inventory: [], errors: [] }, [{ file: 'x.yaml', jobs: [{ name: 'same', file: 'x.yaml' }] , errors: [] }, { file: 'y.yaml', jobs: [{ name: 'same', file: 'y.yaml' }], errors: [] }], new Set(['x.yaml', 'y.yaml']), false);
  t.same(dup.inventory, [{ name: 'same', file: 'x.yaml' }], 'a job declared twice is listed once');
});

t.test('prunePlan deletes only what left, and waits for confirmation above the share', async (t) => {
  const inv = (names: string[]) => names.map((name) => ({ name, file: `${name}.yaml` }));
  t.same(prunePlan(inv(['a', 'b', 'c', 'd']), inv(['a', 'b', 'c']), { prune: true, revision }), { delete: ['d'] });
  t.same(prunePlan(inv(['a', 'b']), inv([]), { prune: false, revision }), { delete: [] }, 'prune off: nothing');
  const blocked = prunePlan(inv(['a', 'b', 'c', 'd']), inv(['a']), { prune: true, revision });
  t.same(blocked.delete, []);
  t.match(blocked.blocked, /would delete 3 of 4 jobs \(more than 50%\); annotate the JobRepository with ml\.example\.com\/confirm-prune=c0ffee/);
  t.equal(MAX_PRUNE_SHARE, 0.5);
  t.same(prunePlan(inv(['a', 'b', 'c', 'd']), inv(['a']), { prune: true, revision, confirmed: revision }), { delete: ['b', 'c', 'd'] }, 'confirmed for this revision');
  t.ok(prunePlan(inv(['a', 'b', 'c', 'd']), inv(['a']), { prune: true, revision, confirmed: 'other' }).blocked, 'a confirmation of another revision does not count');
  t.same(prunePlan(inv(['a']), inv([]), { prune: true, revision }), { delete: ['a'] }, 'one job may always go');
  const emptied = prunePlan(inv(['a', 'b', 'c', 'd']), inv(['new']), { prune: true, revision });
  t.match(emptied.blocked, /would delete 4 of 5 jobs/, 'counted out of every job either revision declares');
  t.same(prunePlan(inv(['a', 'b', 'c', 'd', 'new']), inv(['new']), { prune: true, revision }), emptied, 'the next sync (blocked jobs kept in the inventory) says the same');
});

t.test('parseInterval reads Go durations and refuses the rest', async (t) => {
  t.equal(parseInterval('30s'), 30_000);
  t.equal(parseInterval('1h30m'), 5_400_000);
  t.equal(parseInterval('1.5m'), 90_000);
  t.equal(parseInterval('250ms'), 250);
  for (const bad of ['', '5', '5x', 'm5', '5m junk']) t.equal(parseInterval(bad), undefined, JSON.stringify(bad));
});
