"""Mixed-signal neuron and synapse circuits (docs/circuits.md; discrete SNN forms docs/circuits.md §5-6).

Populations (frozen ``Config`` dataclass + per-instance lognormal mismatch drawn from an explicit
``rng`` at construction; numba kernels in ``_kernels.py``, numpy twins in ``_reference.py``):

- :class:`DPISynapse` (``DPISynapseConfig``): current-mode DPI, tau = C*U_T/(kappa*I_tau),
  pulse-driven jumps. ``step(dt, spikes) -> I_syn``; ``run(SpikeTrain, duration, dt) -> (n_steps, n)``.
- :class:`AdExpNeuron` (``AdExpConfig``): Chicca-2014 DPI neuron with positive feedback, threshold,
  reset, refractory period and adaptation DPI. ``step(dt, i_in)`` and ``run(i_in, dt)`` return a
  :class:`SpikeTrain` (index/time arrays).
- :class:`LIFPopulation` (``LIFConfig``) and :class:`AdLIFPopulation` (``AdLIFConfig``; sparch adLIF,
  symplectic SE-adLIF, SiLIF via ``AdLIFConfig.silif`` / ``AdLIFPopulation.from_silif``): discrete
  time over a (batch, n) state. Workload API: ``reset_state(batch)``, then per time step
  ``step(input_current) -> spikes`` (bool (batch, n); input (n,) or (batch, n)); ``run(inputs)``;
  trained per-neuron values via ``from_parameters(alpha, ...)``. ``LIFPopulation.drive`` fuses
  constant + Poisson input generation with the update (per-unit xorshift streams seeded from rng).

Event-driven building blocks for SimPy chip models (advance lazily by any dt between events):

- :func:`dpi_decay(i, dt, tau) <dpi_decay>` exact exponential decay; :func:`dpi_jump` per-spike increment;
- :func:`lif_advance` (exact LIF membrane under constant input) and :func:`lif_time_to_threshold`
  (when to schedule the next spike event);
- :func:`adexp_advance(state, dt, i_in, params, i_decay=..., tau_decay=..., t0=..., neurons=...)
  <adexp_advance>` advances an :class:`AdExpState` in place (bounded exponential-midpoint sub-steps
  while active, one step while quiescent; input held, plus optional exponentially decaying parts
  such as DPI currents) and returns the spikes; build ``params`` with :func:`adexp_params(config, n, rng)`.

Mismatch defaults to sigma_ln = 0.10 for every population (docs/circuits.md §2); pass
``MismatchConfig(sigma=0.0)`` in the config for ideal neurons (``rng`` may then be None).

Conversions (``physics``): :func:`tau_from_bias`, :func:`bias_from_tau`, :func:`pulse_width`,
:func:`pulse_current`; every config has ``from_time_constants(...)`` and ``time_constants()``.

Energy: populations given ``ledger=`` count ``neuron_spike`` (output spikes) and ``synaptic_event``
(input spikes delivered) in :class:`aimc_sim.cost.Ledger`; the cost model prices them
(defaults and sources in ``docs/circuits.md``).
"""

from aimc_sim.circuits.adexp import (
    NEURON_SPIKE,
    AdExpConfig,
    AdExpNeuron,
    AdExpParams,
    AdExpState,
    adexp_advance,
    adexp_params,
)
from aimc_sim.circuits.adlif import AdLIFConfig, AdLIFPopulation
from aimc_sim.circuits.dpi import SYNAPTIC_EVENT, DPISynapse, DPISynapseConfig, dpi_decay, dpi_jump
from aimc_sim.circuits.lif import LIFConfig, LIFPopulation, lif_advance, lif_time_to_threshold
from aimc_sim.circuits.mismatch import MismatchConfig, sample_factors
from aimc_sim.circuits.physics import bias_from_tau, pulse_current, pulse_width, tau_from_bias
from aimc_sim.circuits.spikes import SpikeTrain

__all__ = [
    "NEURON_SPIKE",
    "SYNAPTIC_EVENT",
    "AdExpConfig",
    "AdExpNeuron",
    "AdExpParams",
    "AdExpState",
    "AdLIFConfig",
    "AdLIFPopulation",
    "DPISynapse",
    "DPISynapseConfig",
    "LIFConfig",
    "LIFPopulation",
    "MismatchConfig",
    "SpikeTrain",
    "adexp_advance",
    "adexp_params",
    "bias_from_tau",
    "dpi_decay",
    "dpi_jump",
    "lif_advance",
    "lif_time_to_threshold",
    "pulse_current",
    "pulse_width",
    "sample_factors",
    "tau_from_bias",
]
