import { describe, expect, it } from 'vitest';
import {
  type StateMachineInput,
  stateMachineSchema,
} from '../../../../aggregator/state-machine/state-machine-schema.js';
import { describeIssues } from '../../../../infra/config/config-error.js';

const device: StateMachineInput = {
  name: 'device-presence',
  states: ['online', 'offline'],
  initial: 'online',
  transitions: [{ from: 'offline', to: 'online' }],
  timeouts: [{ state: 'online', afterMs: 300_000, to: 'offline' }],
};

function problems(input: unknown): string[] {
  const r = stateMachineSchema.safeParse(input, { reportInput: true });
  return r.success ? [] : describeIssues(r.error.issues, 'sm');
}

describe('state machine schema', () => {
  it('accepts the device example and applies defaults', () => {
    const def = stateMachineSchema.parse(device);
    expect(def.emit).toBe('all');
    expect(def.transitions[0]?.when).toEqual({ all: [] });
  });

  it('names the field path and the undeclared state', () => {
    expect(problems({ ...device, initial: 'booting' })).toEqual([
      'sm.initial: "booting" is not a declared state (states: "online", "offline")',
    ]);
    expect(problems({ ...device, transitions: [{ from: 'offline', to: 'gone' }] })).toEqual([
      'sm.transitions.0.to: "gone" is not a declared state (states: "online", "offline")',
    ]);
    expect(problems({ ...device, transitions: [{ from: 'asleep', to: 'online' }] })[0]).toMatch(
      /^sm\.transitions\.0\.from: "asleep"/,
    );
    expect(problems({ ...device, timeouts: [{ state: 'online', afterMs: 1, to: 'nowhere' }] })[0]).toMatch(
      /^sm\.timeouts\.0\.to: "nowhere"/,
    );
    expect(problems({ ...device, timeouts: [{ state: 'idle', afterMs: 1, to: 'offline' }] })[0]).toMatch(
      /^sm\.timeouts\.0\.state: "idle"/,
    );
  });

  it('accepts * as a source state but not as a target', () => {
    expect(problems({ ...device, transitions: [{ from: '*', to: 'online' }] })).toEqual([]);
    expect(problems({ ...device, transitions: [{ from: 'online', to: '*' }] })[0]).toMatch(
      /^sm\.transitions\.0\.to: "\*"/,
    );
  });

  it('rejects duplicate states, two timeouts on one state, and a timeout to its own state', () => {
    expect(problems({ ...device, states: ['online', 'offline', 'online'] })[0]).toBe(
      'sm.states.2: "online" is declared twice',
    );
    expect(
      problems({
        ...device,
        timeouts: [
          { state: 'online', afterMs: 1, to: 'offline' },
          { state: 'online', afterMs: 2, to: 'offline' },
        ],
      })[0],
    ).toMatch(/^sm\.timeouts\.1\.state: "online" has a second timeout/);
    expect(problems({ ...device, timeouts: [{ state: 'online', afterMs: 1, to: 'online' }] })[0]).toMatch(
      /^sm\.timeouts\.0\.to:/,
    );
  });

  it('checks predicate values against the operator', () => {
    const withWhen = (when: unknown) => ({
      ...device,
      transitions: [{ from: 'offline', to: 'online', when }],
    });
    expect(problems(withWhen({ field: 'status', op: 'in', value: 'up' }))[0]).toMatch(
      /^sm\.transitions\.0\.when/,
    );
    expect(problems(withWhen({ field: 'status', op: 'exists', value: 1 })).join()).toContain(
      'takes no value',
    );
    expect(problems(withWhen({ field: 'status', op: 'gt' })).join()).toContain('needs a value');
    expect(
      problems(
        withWhen({
          all: [{ field: 'a', op: 'exists' }, { any: [{ field: 'b', op: 'in', value: [1, 'x'] }] }],
        }),
      ),
    ).toEqual([]);
  });

  it('is strict about unknown keys', () => {
    expect(problems({ ...device, timeout: [] })[0]).toMatch(/^sm/);
  });
});
