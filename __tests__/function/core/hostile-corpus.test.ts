import { HandlerDeps, handleMessage } from '../../../function/core/handler';
import { CapturingLogger, MemoryBaselines, MemoryLedger, RecordingInstances } from '../../support/fakes';
import { HOSTILE_INPUTS } from '../../support/hostile-corpus';
import { DEFAULT_SETTINGS } from '../../support/handler-setup';

const SEVERITY = { rejected: 'ERROR', ignored: 'DEBUG', 'no-action': 'INFO' } as const;

describe('the hostile-input corpus through the handler', () => {
  it('holds at least fifty inputs', () => {
    expect(HOSTILE_INPUTS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(HOSTILE_INPUTS.map((i) => i.name)).size).toBe(HOSTILE_INPUTS.length);
  });

  it.each(HOSTILE_INPUTS.map((i) => [i.name, i] as const))('%s: acknowledged, one log line, no Compute call', async (_name, input) => {
    const instances = new RecordingInstances();
    const logger = new CapturingLogger();
    const ledger = new MemoryLedger();
    const deps: HandlerDeps = {
      mode: 'relearn-if-known-good' as const,
      baselines: new MemoryBaselines(),
      instances,
      ledger,
      logger,
      scope: { kind: 'project', id: 'fleet-prod-1234' },
      maxEventAgeSeconds: 3600,
      staleEventPolicy: 'fail-closed' as const,
      ...DEFAULT_SETTINGS,
    };
    const outcome = await handleMessage(input.data, deps, { id: 'hostile-1' });
    expect(instances.calls).toEqual([]);
    expect(ledger.records.size).toBe(0);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toEqual(expect.objectContaining({ severity: SEVERITY[input.expected], eventId: 'hostile-1' }));
    if (input.expected === 'rejected') {
      expect(outcome).toEqual({ status: 'rejected' });
      expect(logger.lines[0]).toEqual(expect.objectContaining({ rejection: input.code }));
    } else if (input.expected === 'ignored') {
      expect(outcome).toEqual({ status: 'ignored' });
    } else {
      expect(outcome).toEqual(expect.objectContaining({ status: 'decided', decision: expect.objectContaining({ action: 'none' }) }));
    }
  });
});
