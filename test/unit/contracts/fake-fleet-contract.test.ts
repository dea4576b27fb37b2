import type { FleetSnapshot } from '../../../autoscaler/ports/fleet-provider.js';
import { fleetProviderContract } from '../../contracts/fleet-provider-contract.js';
import { FakeFleet } from '../autoscaler/control/fakes.js';

// The control loop's fake must behave like the real adapters (moto runs of the same suite live in
// test/integration/aws/fleet-providers.test.ts), or the loop's unit tests prove things about a fleet that does not exist.
fleetProviderContract('FakeFleet (test/unit/autoscaler/control/fakes.ts)', async () => {
  const snapshot: FleetSnapshot = {
    observedAtMs: 1_764_000_000_000,
    targetUnits: 8,
    instances: ['a', 'b'].map((az, n) => ({
      instanceId: `i-fake-${n}`,
      instanceType: 'm6i.xlarge',
      availabilityZone: `us-east-1${az}`,
      market: 'spot' as const,
      state: 'ready' as const,
      launchTimeMs: 1_763_999_000_000,
      weightUnits: 4,
      tags: {},
    })),
  };
  return { provider: new FakeFleet(snapshot, 4), initialUnits: 8, instanceTypes: ['m6i.xlarge'] };
});
